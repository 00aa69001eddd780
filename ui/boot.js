// Starts the Pitstop web app. A file of its own, not an inline script, so the page's
// Content-Security-Policy can forbid inline scripts.
import init from "./pitstop-ui.js";
init();
