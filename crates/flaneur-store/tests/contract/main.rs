//! Contract tests of the storage seams, run against every implementation: each behaviour is
//! written once against the traits, then instantiated per backend.

mod account;
mod annotation;
mod backend;
mod blob;
mod catalog;
mod edit;
mod excluded;
mod federation;
mod fixture;
mod harvest_lease;
mod job;
mod listing;
mod map;
mod nearby;
mod page;
mod postgres;
mod postgres_map;
mod report;
mod s3_faults;
mod search;
mod search_filters;
mod session;
mod stats;
mod updated;
mod upload;
mod visibility;
