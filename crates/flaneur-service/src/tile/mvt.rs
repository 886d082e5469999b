//! Mapbox Vector Tile 2.1 encoding and decoding, written by hand: the format is five small
//! protobuf messages, and a crate for it would bring a protobuf toolchain for ~150 lines.
//!
//! Only what tiles of this server hold is supported: point and line features with string,
//! integer, double and boolean properties. The decoder exists for tests and tools.

use std::collections::HashMap;

/// Coordinates of a tile span `0..EXTENT` on each axis.
pub const EXTENT: u32 = 4096;

/// A property value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text.
    Str(String),
    /// Whole number.
    Int(i64),
    /// Real number.
    Double(f64),
    /// Flag.
    Bool(bool),
}

/// Where a feature lies, in tile coordinates.
#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    /// One or more points.
    Points(Vec<[i32; 2]>),
    /// One or more lines of at least two points each.
    Lines(Vec<Vec<[i32; 2]>>),
}

/// A feature: geometry and properties in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// Its geometry.
    pub geometry: Geometry,
    /// Its properties.
    pub properties: Vec<(String, Value)>,
}

/// A named layer of features.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Its name (`sequences`, `pictures`, `grid`).
    pub name: String,
    /// Its features.
    pub features: Vec<Feature>,
}

// Field numbers of the vector_tile.proto messages.
const TILE_LAYERS: u32 = 3;
const LAYER_NAME: u32 = 1;
const LAYER_FEATURES: u32 = 2;
const LAYER_KEYS: u32 = 3;
const LAYER_VALUES: u32 = 4;
const LAYER_EXTENT: u32 = 5;
const LAYER_VERSION: u32 = 15;
const FEATURE_TAGS: u32 = 2;
const FEATURE_TYPE: u32 = 3;
const FEATURE_GEOMETRY: u32 = 4;
const VALUE_STRING: u32 = 1;
const VALUE_DOUBLE: u32 = 3;
const VALUE_SINT: u32 = 6;
const VALUE_BOOL: u32 = 7;

const WIRE_VARINT: u32 = 0;
const WIRE_FIXED64: u32 = 1;
const WIRE_LEN: u32 = 2;
const WIRE_FIXED32: u32 = 5;

const GEOM_POINT: u64 = 1;
const GEOM_LINESTRING: u64 = 2;
const CMD_MOVE_TO: u32 = 1;
const CMD_LINE_TO: u32 = 2;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_key(out: &mut Vec<u8>, field: u32, wire: u32) {
    put_varint(out, u64::from(field << 3 | wire));
}

fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_key(out, field, WIRE_LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn put_uint(out: &mut Vec<u8>, field: u32, v: u64) {
    put_key(out, field, WIRE_VARINT);
    put_varint(out, v);
}

fn put_packed(out: &mut Vec<u8>, field: u32, values: &[u32]) {
    let mut packed = Vec::with_capacity(values.len() * 2);
    for v in values {
        put_varint(&mut packed, u64::from(*v));
    }
    put_bytes(out, field, &packed);
}

fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

fn unzigzag(v: u32) -> i32 {
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

fn command(id: u32, count: usize) -> u32 {
    id | (count as u32) << 3
}

/// The command stream of a geometry, and its MVT type.
fn geometry_commands(geometry: &Geometry) -> (u64, Vec<u32>) {
    let mut cmds = Vec::new();
    let mut cursor = [0i32; 2];
    let mut delta = |cmds: &mut Vec<u32>, p: [i32; 2]| {
        cmds.push(zigzag(p[0] - cursor[0]));
        cmds.push(zigzag(p[1] - cursor[1]));
        cursor = p;
    };
    match geometry {
        Geometry::Points(points) => {
            cmds.push(command(CMD_MOVE_TO, points.len()));
            for p in points {
                delta(&mut cmds, *p);
            }
            (GEOM_POINT, cmds)
        }
        Geometry::Lines(lines) => {
            for line in lines {
                let Some((first, rest)) = line.split_first() else {
                    continue;
                };
                cmds.push(command(CMD_MOVE_TO, 1));
                delta(&mut cmds, *first);
                cmds.push(command(CMD_LINE_TO, rest.len()));
                for p in rest {
                    delta(&mut cmds, *p);
                }
            }
            (GEOM_LINESTRING, cmds)
        }
    }
}

fn encode_value(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    match value {
        Value::Str(s) => put_bytes(&mut out, VALUE_STRING, s.as_bytes()),
        Value::Double(d) => {
            put_key(&mut out, VALUE_DOUBLE, WIRE_FIXED64);
            out.extend_from_slice(&d.to_le_bytes());
        }
        Value::Int(i) => put_uint(&mut out, VALUE_SINT, ((i << 1) ^ (i >> 63)) as u64),
        Value::Bool(b) => put_uint(&mut out, VALUE_BOOL, u64::from(*b)),
    }
    out
}

fn encode_layer(layer: &Layer) -> Vec<u8> {
    // Keys and values are shared tables; features refer to them by index.
    let mut keys: Vec<&str> = Vec::new();
    let mut key_index: HashMap<&str, u32> = HashMap::new();
    let mut values: Vec<Vec<u8>> = Vec::new();
    let mut value_index: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut features = Vec::new();
    for feature in &layer.features {
        let mut tags = Vec::with_capacity(feature.properties.len() * 2);
        for (key, value) in &feature.properties {
            let k = *key_index.entry(key.as_str()).or_insert_with(|| {
                keys.push(key.as_str());
                (keys.len() - 1) as u32
            });
            let bytes = encode_value(value);
            let v = *value_index.entry(bytes.clone()).or_insert_with(|| {
                values.push(bytes);
                (values.len() - 1) as u32
            });
            tags.extend([k, v]);
        }
        let (kind, cmds) = geometry_commands(&feature.geometry);
        let mut f = Vec::new();
        if !tags.is_empty() {
            put_packed(&mut f, FEATURE_TAGS, &tags);
        }
        put_uint(&mut f, FEATURE_TYPE, kind);
        put_packed(&mut f, FEATURE_GEOMETRY, &cmds);
        features.push(f);
    }

    let mut out = Vec::new();
    put_uint(&mut out, LAYER_VERSION, 2);
    put_bytes(&mut out, LAYER_NAME, layer.name.as_bytes());
    for f in &features {
        put_bytes(&mut out, LAYER_FEATURES, f);
    }
    for k in &keys {
        put_bytes(&mut out, LAYER_KEYS, k.as_bytes());
    }
    for v in &values {
        put_bytes(&mut out, LAYER_VALUES, v);
    }
    put_uint(&mut out, LAYER_EXTENT, u64::from(EXTENT));
    out
}

/// Encodes layers into a tile. Layers without features are left out, as PostGIS does.
pub fn encode(layers: &[Layer]) -> Vec<u8> {
    let mut out = Vec::new();
    for layer in layers.iter().filter(|l| !l.features.is_empty()) {
        put_bytes(&mut out, TILE_LAYERS, &encode_layer(layer));
    }
    out
}

// --- decoding ------------------------------------------------------------------------------

/// Why bytes are not a tile this module can read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid vector tile: {0}")]
pub struct DecodeError(&'static str);

/// One protobuf field: number and payload.
enum Field<'a> {
    Varint(u32, u64),
    Fixed(u32, u64),
    Bytes(u32, &'a [u8]),
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self
                .buf
                .split_first()
                .ok_or(DecodeError("truncated varint"))?;
            self.buf = rest;
            v |= u64::from(b & 0x7F) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(DecodeError("varint too long"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError("truncated field"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn field(&mut self) -> Result<Option<Field<'a>>, DecodeError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = (key >> 3) as u32;
        let field = match (key & 7) as u32 {
            WIRE_VARINT => Field::Varint(number, self.varint()?),
            WIRE_FIXED64 => {
                let b = self.take(8)?;
                Field::Fixed(number, u64::from_le_bytes(b.try_into().unwrap_or_default()))
            }
            WIRE_FIXED32 => {
                let b = self.take(4)?;
                let f = f32::from_le_bytes(b.try_into().unwrap_or_default());
                Field::Fixed(number, f64::from(f).to_bits())
            }
            WIRE_LEN => {
                let n = usize::try_from(self.varint()?).map_err(|_| DecodeError("length"))?;
                Field::Bytes(number, self.take(n)?)
            }
            _ => return Err(DecodeError("unsupported wire type")),
        };
        Ok(Some(field))
    }
}

fn packed(bytes: &[u8]) -> Result<Vec<u32>, DecodeError> {
    let mut r = Reader { buf: bytes };
    let mut out = Vec::new();
    while !r.buf.is_empty() {
        out.push(r.varint()? as u32);
    }
    Ok(out)
}

fn decode_value(bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut r = Reader { buf: bytes };
    let value = match r.field()? {
        Some(Field::Bytes(1, s)) => {
            Value::Str(String::from_utf8(s.to_vec()).map_err(|_| DecodeError("utf-8"))?)
        }
        Some(Field::Fixed(2 | 3, bits)) => Value::Double(f64::from_bits(bits)),
        Some(Field::Varint(4 | 5, v)) => Value::Int(v as i64),
        Some(Field::Varint(6, v)) => Value::Int(((v >> 1) as i64) ^ -((v & 1) as i64)),
        Some(Field::Varint(7, v)) => Value::Bool(v != 0),
        _ => return Err(DecodeError("unknown value type")),
    };
    Ok(value)
}

fn decode_geometry(kind: u64, cmds: &[u32]) -> Result<Geometry, DecodeError> {
    let mut parts: Vec<Vec<[i32; 2]>> = Vec::new();
    let mut cursor = [0i32; 2];
    let mut at = 0;
    while at < cmds.len() {
        let (id, count) = (cmds[at] & 7, (cmds[at] >> 3) as usize);
        at += 1;
        if id == CMD_MOVE_TO {
            parts.push(Vec::new());
        }
        for _ in 0..count {
            let (dx, dy) = match (cmds.get(at), cmds.get(at + 1)) {
                (Some(dx), Some(dy)) => (unzigzag(*dx), unzigzag(*dy)),
                _ => return Err(DecodeError("truncated geometry")),
            };
            at += 2;
            cursor = [cursor[0] + dx, cursor[1] + dy];
            parts
                .last_mut()
                .ok_or(DecodeError("line-to before move-to"))?
                .push(cursor);
        }
    }
    match kind {
        GEOM_POINT => Ok(Geometry::Points(parts.into_iter().flatten().collect())),
        GEOM_LINESTRING => Ok(Geometry::Lines(parts)),
        _ => Err(DecodeError("unsupported geometry type")),
    }
}

fn decode_layer(bytes: &[u8]) -> Result<Layer, DecodeError> {
    let mut r = Reader { buf: bytes };
    let (mut name, mut keys, mut values, mut raw) = (String::new(), vec![], vec![], vec![]);
    while let Some(field) = r.field()? {
        match field {
            Field::Bytes(LAYER_NAME, b) => name = String::from_utf8_lossy(b).into_owned(),
            Field::Bytes(LAYER_FEATURES, b) => raw.push(b),
            Field::Bytes(LAYER_KEYS, b) => keys.push(String::from_utf8_lossy(b).into_owned()),
            Field::Bytes(LAYER_VALUES, b) => values.push(decode_value(b)?),
            _ => {}
        }
    }
    let mut features = Vec::with_capacity(raw.len());
    for bytes in raw {
        let mut r = Reader { buf: bytes };
        let (mut tags, mut kind, mut cmds) = (vec![], 0, vec![]);
        while let Some(field) = r.field()? {
            match field {
                Field::Bytes(FEATURE_TAGS, b) => tags = packed(b)?,
                Field::Varint(FEATURE_TYPE, v) => kind = v,
                Field::Bytes(FEATURE_GEOMETRY, b) => cmds = packed(b)?,
                _ => {}
            }
        }
        let mut properties = Vec::with_capacity(tags.len() / 2);
        for pair in tags.chunks(2) {
            let key = pair.first().and_then(|k| keys.get(*k as usize));
            let value = pair.get(1).and_then(|v| values.get(*v as usize));
            let (Some(key), Some(value)) = (key, value) else {
                return Err(DecodeError("tag out of range"));
            };
            properties.push((key.clone(), value.clone()));
        }
        features.push(Feature {
            geometry: decode_geometry(kind, &cmds)?,
            properties,
        });
    }
    Ok(Layer { name, features })
}

/// Decodes a tile into its layers.
///
/// # Errors
/// [`DecodeError`] when the bytes are not a well-formed tile of points and lines.
pub fn decode(bytes: &[u8]) -> Result<Vec<Layer>, DecodeError> {
    let mut r = Reader { buf: bytes };
    let mut layers = Vec::new();
    while let Some(field) = r.field()? {
        if let Field::Bytes(TILE_LAYERS, b) = field {
            layers.push(decode_layer(b)?);
        }
    }
    Ok(layers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point_layer() -> Layer {
        Layer {
            name: "pictures".into(),
            features: vec![Feature {
                geometry: Geometry::Points(vec![[25, 17]]),
                properties: vec![("n".into(), Value::Int(-3))],
            }],
        }
    }

    #[test]
    fn a_point_is_encoded_as_the_specification_shows() {
        // The specification's example: MoveTo(1) then zigzag(25), zigzag(17) = [9, 50, 34].
        let bytes = encode(&[point_layer()]);
        let geometry = [0x22, 0x03, 0x09, 0x32, 0x22];
        assert!(
            bytes.windows(geometry.len()).any(|w| w == geometry),
            "{bytes:02x?}"
        );
        assert!(
            bytes.starts_with(&[0x1A]),
            "layers are field 3: {bytes:02x?}"
        );
        // Version 2 (field 15, varint) and extent 4096 (field 5, varint 0x80 0x20).
        assert!(bytes.windows(2).any(|w| w == [0x78, 0x02]), "{bytes:02x?}");
        assert!(bytes.ends_with(&[0x28, 0x80, 0x20]), "{bytes:02x?}");
    }

    #[test]
    fn what_is_encoded_decodes_back() {
        let lines = Layer {
            name: "sequences".into(),
            features: vec![
                Feature {
                    geometry: Geometry::Lines(vec![
                        vec![[2, 2], [2, 10], [10, 10]],
                        vec![[-5, 4100], [4000, -20]],
                    ]),
                    properties: vec![
                        ("id".into(), Value::Str("abc".into())),
                        ("gps_accuracy".into(), Value::Double(4.5)),
                        ("hidden".into(), Value::Bool(false)),
                        ("h_pixel_density".into(), Value::Int(16)),
                    ],
                },
                Feature {
                    geometry: Geometry::Lines(vec![vec![[0, 0], [1, 1]]]),
                    properties: vec![("id".into(), Value::Str("abc".into()))],
                },
            ],
        };
        let layers = vec![lines, point_layer()];
        assert_eq!(decode(&encode(&layers)), Ok(layers));
    }

    #[test]
    fn empty_layers_are_left_out() {
        let empty = Layer {
            name: "grid".into(),
            features: vec![],
        };
        assert!(encode(&[empty]).is_empty());
    }

    #[test]
    fn truncated_bytes_are_refused() {
        let bytes = encode(&[point_layer()]);
        assert!(decode(&bytes[..bytes.len() - 2]).is_err());
    }
}
