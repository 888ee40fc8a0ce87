use sio_core::TS;

#[derive(TS)]
#[ts(rename_all = "shouting")]
struct Score {
    points: u32,
}

fn main() {}
