//! How the UI reaches the platform: plain HTTP with gloo-net. The platform address comes from
//! `?platform=` in the page URL, else `http://127.0.0.1:8080`.

use pitstop_api::services::ServiceType;

/// The platform's base URL.
pub fn base_url() -> String {
    query_param("platform").unwrap_or_else(|| "http://127.0.0.1:8080".into())
}

fn query_param(name: &str) -> Option<String> {
    let search = page_query()?;
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(str::to_string))
}

fn page_query() -> Option<String> {
    let window = web_sys::window()?;
    window.location().search().ok()
}

/// `GET /v1/services`.
pub async fn services() -> Result<Vec<ServiceType>, String> {
    let resp = gloo_net::http::Request::get(&format!("{}/v1/services", base_url()))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !resp.ok() {
        return Err(format!("HTTP {}", resp.status()));
    }
    resp.json().await.map_err(|e| e.to_string())
}
