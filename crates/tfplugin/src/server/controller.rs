//! go-plugin's controller: Terraform's way of saying "exit now".

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::proto::plugin::grpc_controller_server::GrpcController;
use super::proto::plugin::Empty;

pub struct Controller {
    pub shutdown: CancellationToken,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("Shutdown requested by Terraform");
        self.shutdown.cancel();
        Ok(Response::new(Empty {}))
    }
}
