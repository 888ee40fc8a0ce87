use sio_core::TS;

struct Secret;

#[derive(TS)]
struct Score {
    points: u32,
    secret: Secret,
}

fn main() {}
