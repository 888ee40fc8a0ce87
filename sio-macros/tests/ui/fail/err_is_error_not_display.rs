use sio_core::prelude::*;
struct Chat;
#[namespace("/chat")]
impl Chat {
    #[event(err_is_error)]
    async fn c(&self) -> Result<u8, Vec<u8>> {
        Ok(1)
    }
}
fn main() {}
