//! Flattens an XMP packet into `Xmp.<prefix>.<Name>` → text pairs, the keys exiv2 uses, so
//! that other modules can look values up whether the writer put them in attributes
//! (`GPano:ProjectionType="equirectangular"`, phones) or in elements (GoPro).
//! What the values mean is decided by the `pano`, `gps`, `time` and `camera` modules.

use std::collections::BTreeMap;

use roxmltree::{Document, Node, ParsingOptions};

const RDF_NS: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

/// Prefixes of the namespaces we read values from. Writers may pick other prefixes for the
/// same namespace; the key uses these so that look-ups do not depend on the writer.
const KNOWN_PREFIXES: [(&str, &str); 6] = [
    ("http://ns.google.com/photos/1.0/panorama/", "GPano"),
    ("http://ns.adobe.com/exif/1.0/", "exif"),
    ("http://ns.adobe.com/tiff/1.0/", "tiff"),
    ("http://ns.adobe.com/xap/1.0/", "xmp"),
    ("http://pix4d.com/camera/1.0/", "Camera"),
    ("http://www.dji.com/drone-dji/1.0/", "drone-dji"),
];

/// An XMP segment is at most 64 kB; this bounds the tree far above any real packet.
const MAX_NODES: u32 = 50_000;

/// The simple properties of an XMP packet.
#[derive(Debug, Default)]
pub(crate) struct Xmp {
    props: BTreeMap<String, String>,
}

impl Xmp {
    /// Parses a packet; an unparsable one gives no properties and a warning.
    pub(crate) fn parse(packet: &[u8], warnings: &mut Vec<String>) -> Self {
        let text = String::from_utf8_lossy(packet);
        let text = text.trim_end_matches(|c: char| c.is_whitespace() || c == '\0');
        let options = ParsingOptions {
            allow_dtd: false,
            nodes_limit: MAX_NODES,
            ..ParsingOptions::default()
        };
        let doc = match Document::parse_with_options(text, options) {
            Ok(doc) => doc,
            Err(err) => {
                warnings.push(format!("xmp data is unreadable: {err}"));
                return Self::default();
            }
        };

        let mut props = BTreeMap::new();
        let descriptions = doc
            .descendants()
            .filter(|n| n.is_element() && is_rdf(*n, "Description"));
        for description in descriptions {
            for attr in description.attributes() {
                let Some(ns) = attr.namespace() else { continue };
                if ns == RDF_NS {
                    continue;
                }
                if let Some(key) = key(description, ns, attr.name()) {
                    props.insert(key, attr.value().trim().to_owned());
                }
            }
            for property in description.children().filter(Node::is_element) {
                let Some(ns) = property.tag_name().namespace() else {
                    continue;
                };
                let Some(value) = property_text(property) else {
                    continue;
                };
                if let Some(key) = key(property, ns, property.tag_name().name()) {
                    props.insert(key, value);
                }
            }
        }
        Self { props }
    }

    /// The text of a property, by exiv2 key (`Xmp.GPano.ProjectionType`).
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.props
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A property read as a number: decimal (`+202.044`) or rational (`12/10`).
    pub(crate) fn number(&self, key: &str) -> Option<f64> {
        parse_number(self.get(key)?)
    }

    /// Every property, for the tag dump.
    pub(crate) fn props(&self) -> &BTreeMap<String, String> {
        &self.props
    }
}

/// Parses a decimal or `num/den` number; `None` for zero denominators and non-finite values.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let value = match text.split_once('/') {
        Some((num, den)) => {
            let den: f64 = den.trim().parse().ok()?;
            if den == 0.0 {
                return None;
            }
            num.trim().parse::<f64>().ok()? / den
        }
        None => text.parse().ok()?,
    };
    value.is_finite().then_some(value)
}

fn is_rdf(node: Node, name: &str) -> bool {
    node.tag_name().namespace() == Some(RDF_NS) && node.tag_name().name() == name
}

fn key(node: Node, ns: &str, name: &str) -> Option<String> {
    let prefix = KNOWN_PREFIXES
        .iter()
        .find(|(uri, _)| *uri == ns)
        .map(|(_, prefix)| *prefix)
        .or_else(|| node.lookup_prefix(ns))?;
    Some(format!("Xmp.{prefix}.{name}"))
}

/// The text of a property element: its own text, or the items of an `rdf:Seq`, `rdf:Bag` or
/// `rdf:Alt` joined by `, `.
fn property_text(property: Node) -> Option<String> {
    let Some(container) = property.children().find(Node::is_element) else {
        return Some(property.text().unwrap_or_default().trim().to_owned());
    };
    if !["Seq", "Bag", "Alt"]
        .iter()
        .any(|name| is_rdf(container, name))
    {
        // TODO: structured properties (xmpMM:History...) are left out of the dump — nothing
        // the reader interprets uses them, and exiv2's `[1]/ns:field` keys need more care.
        return None;
    }
    let mut items = Vec::new();
    for item in container
        .children()
        .filter(|n| n.is_element() && is_rdf(*n, "li"))
    {
        if item.children().any(|n| n.is_element()) {
            return None;
        }
        items.push(item.text().unwrap_or_default().trim().to_owned());
    }
    Some(items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTRIBUTES: &str = r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:G="http://ns.google.com/photos/1.0/panorama/"
  G:ProjectionType="equirectangular" G:FullPanoWidthPixels="8192">
  <G:Keywords><rdf:Bag><rdf:li>a</rdf:li><rdf:li>b</rdf:li></rdf:Bag></G:Keywords>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>   "#;

    const ELEMENTS: &str = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:GPano="http://ns.google.com/photos/1.0/panorama/">
<GPano:ProjectionType>equirectangular</GPano:ProjectionType>
<GPano:PoseHeadingDegrees> 12.5 </GPano:PoseHeadingDegrees>
</rdf:Description></rdf:RDF></x:xmpmeta>"#;

    #[test]
    fn reads_attributes_under_canonical_prefixes() {
        let xmp = Xmp::parse(format!("{ATTRIBUTES}\0\0").as_bytes(), &mut Vec::new());
        assert_eq!(xmp.get("Xmp.GPano.ProjectionType"), Some("equirectangular"));
        assert_eq!(xmp.number("Xmp.GPano.FullPanoWidthPixels"), Some(8192.0));
        assert_eq!(xmp.get("Xmp.GPano.Keywords"), Some("a, b"));
    }

    #[test]
    fn reads_elements() {
        let xmp = Xmp::parse(ELEMENTS.as_bytes(), &mut Vec::new());
        assert_eq!(xmp.get("Xmp.GPano.ProjectionType"), Some("equirectangular"));
        assert_eq!(xmp.number("Xmp.GPano.PoseHeadingDegrees"), Some(12.5));
    }

    #[test]
    fn warns_on_broken_packets() {
        let mut warnings = Vec::new();
        let xmp = Xmp::parse(b"<x:xmpmeta", &mut warnings);
        assert!(xmp.props().is_empty());
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn parses_decimal_and_rational_numbers() {
        assert_eq!(parse_number("+202.044"), Some(202.044));
        assert_eq!(parse_number("12/10"), Some(1.2));
        assert_eq!(parse_number("1/0"), None);
        assert_eq!(parse_number("NaN"), None);
    }
}
