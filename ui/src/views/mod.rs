//! The views: one per role, the share-link tracking page, and the pieces they share.

pub mod board;
pub mod common;
pub mod desk;
pub mod owner;
pub mod place;
pub mod signin;
pub mod technician;
pub mod track;
