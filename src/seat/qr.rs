//! The join address as a QR code (SVG), for the facilitator's projected screen.

use qrcodegen::{QrCode, QrCodeEcc};

/// An SVG of `text` as a QR code (medium error correction, a 4-module quiet zone), or
/// `None` if the text is too long for one.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let size = code.size();
    let border = 4;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if code.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let full = size + 2 * border;
    Some(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {full} {full}" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path d="{path}" fill="#000"/></svg>"##
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_join_address_fits_and_draws_dark_modules() {
        let svg = super::svg("http://192.168.1.20:8080/join/ABC234").unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(
            svg.matches('M').count() > 100,
            "a version-3 code has hundreds of dark modules"
        );
        assert!(super::svg(&"x".repeat(5000)).is_none());
    }
}
