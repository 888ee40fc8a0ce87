use sio_core::prelude::*;
struct Chat;
#[namespace("/chat")]
impl Chat {
    #[event(err_is_error)]
    async fn a(&self) -> String {
        String::new()
    }
    #[event(err_is_error = true)]
    async fn b(&self) -> Result<(), String> {
        Ok(())
    }
}
fn main() {}
