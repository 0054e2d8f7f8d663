//! Bikes and shoes.

use crate::Client;
use crate::api_v3::ApiV3;
use crate::error::Result;
use crate::types::DetailedGear;

impl Client {
    /// A bike (`b…`) or pair of shoes (`g…`) by id.
    pub async fn get_gear(&self, gear_id: &str) -> Result<DetailedGear> {
        if gear_id.trim().is_empty() {
            return Err(crate::Error::invalid_input("gear id is empty"));
        }
        ApiV3::call(
            "getGearById",
            self.generated().get_gear_by_id().id(gear_id).send(),
        )
        .await
    }
}
