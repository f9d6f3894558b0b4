//! Integration tests: the real executables against real temporary repositories.

mod doctor;
mod edges;
mod github;
mod global;
mod http;
mod install;
mod ledger;
mod managers;
mod mariadb;
mod monitor;
mod monitor_digitalocean;
mod monitor_github;
mod monitor_mysql;
mod monitor_processes;
mod newcomer;
mod post_push;
mod pre_push;
mod push;
mod push_faults;
mod server;
mod smart_http;
mod stats;
mod status;
mod swarm;
mod untrusted;
mod util;
