//! End-to-end tests: the real `symp` binary, real ptys, a private SYMP_HOME each.

mod harness;

mod attach;
