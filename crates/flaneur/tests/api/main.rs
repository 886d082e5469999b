//! The HTTP API of `flaneur serve`, tested as a black box against the real binary, the shared
//! real pictures (`scripts/fetch-testdata.sh`) and GeoVisio 2.15.1's recorded responses.

mod accounts;
mod admin_stats;
mod annotations;
mod authorization;
mod backend;
mod catalog_only;
mod cli_login;
mod config_file;
mod configuration;
mod editing;
mod excluded_areas;
mod federation;
mod federation_relay;
mod federation_union;
mod feeds;
mod filters;
mod guards;
mod inspect;
mod item_links;
mod login;
mod login_provider;
mod migrate_storage;
mod openapi;
mod overrides;
mod page_bound;
mod pages;
mod panoramax_cli;
mod pystac_client;
mod queryables;
mod read;
mod reports;
mod restart;
mod s3_pictures;
mod scale_out;
mod search;
mod server;
mod shapes;
mod stac_api_validator;
mod status;
mod tiles;
mod unavailable;
mod updated;
mod upload;
mod upload_resume;
mod users;
mod visibility;
mod web;
mod workers;

#[path = "../support/testdata.rs"]
mod testdata;

pub use testdata::pictures_dir;

use std::path::PathBuf;

/// Paths of named pictures of the shared test data.
pub fn pictures(names: &[&str]) -> Vec<PathBuf> {
    let dir = pictures_dir();
    names.iter().map(|name| dir.join(name)).collect()
}

/// The five 360° GoPro Max pictures, in capture order.
pub const GOPRO: [&str; 5] = ["1.jpg", "2.jpg", "3.jpg", "4.jpg", "5.jpg"];
/// The five flat Sony pictures, in capture order.
pub const SONY: [&str; 5] = ["e1.jpg", "e2.jpg", "e3.jpg", "e4.jpg", "e5.jpg"];

/// Width and height of a JPEG, read from its first start-of-frame marker.
pub fn jpeg_size(bytes: &[u8]) -> (u32, u32) {
    assert!(
        bytes.starts_with(&[0xFF, 0xD8]),
        "not a JPEG (no SOI marker)"
    );
    let mut at = 2;
    while at + 4 <= bytes.len() {
        assert_eq!(bytes[at], 0xFF, "JPEG marker expected at byte {at}");
        let marker = bytes[at + 1];
        if marker == 0xFF {
            // Fill byte before a marker.
            at += 1;
            continue;
        }
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            let sof = &bytes[at + 4..at + 2 + length];
            let height = u16::from_be_bytes([sof[1], sof[2]]);
            let width = u16::from_be_bytes([sof[3], sof[4]]);
            return (u32::from(width), u32::from(height));
        }
        assert!(marker != 0xDA, "JPEG scan starts before any SOF marker");
        at += 2 + length;
    }
    panic!("no SOF marker in the JPEG");
}
