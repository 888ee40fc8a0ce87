use sio_core::TS;

#[derive(TS)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
