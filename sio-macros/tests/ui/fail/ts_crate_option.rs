use sio_core::TS;

#[derive(TS)]
#[ts(export, crate = "::ts_rs")]
struct Score {
    points: u32,
}

fn main() {}
