//! One module per subcommand: its `Args` (clap derive, with examples in `--help`) and its
//! `run`. Commands parse, call the core, show progress and print a report; nothing else.

pub mod bench;
pub mod demo;
pub mod emulate;
pub mod extract;
pub mod limits;
pub mod load;
