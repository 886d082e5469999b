//! Reads every shared test picture and compares with what exiftool 12.57 says of it
//! (`exiftool -n -json -G1 -a -s`, recorded in the shared testdata's `exiftool.json`).

mod crafted;
mod expected;
mod header;
mod testdata;
