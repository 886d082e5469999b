//! Integration tests of `flaneur-imaging`: real pictures from the shared test set and small
//! JPEGs crafted here.

mod flat;
mod orientation;
mod panorama;
mod robustness;
mod support;
