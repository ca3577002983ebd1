//! Starting and removing containers (`docker run -d --net none --name N
//! IMAGE`, `docker rm -f N`), for demos and tests.

use bollard::{
    models::{ContainerCreateBody, HostConfig},
    query_parameters::{CreateContainerOptions, RemoveContainerOptions},
};

use crate::{client::DockerAdapter, error::Result};

impl DockerAdapter {
    /// `docker run -d --name NAME --hostname NAME --net none IMAGE`: a
    /// container with no network yet, ready to be connected.
    pub async fn run_detached(&self, name: &str, image: &str) -> Result<()> {
        let op = format!("run container {name} from {image}");
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            hostname: Some(name.to_string()),
            host_config: Some(HostConfig { network_mode: Some("none".into()), ..Default::default() }),
            ..Default::default()
        };
        let opts = CreateContainerOptions { name: Some(name.to_string()), ..Default::default() };
        self.docker.create_container(Some(opts), body).await.map_err(|e| self.err(&op, e))?;
        if let Err(e) = self.docker.start_container(name, None).await {
            let _ = self.remove_container(name).await;
            return Err(self.err(&op, e));
        }
        Ok(())
    }

    /// `docker rm -f NAME`; `false` if there was no such container.
    pub async fn remove_container(&self, name: &str) -> Result<bool> {
        let op = format!("remove container {name}");
        let opts = RemoveContainerOptions { force: true, ..Default::default() };
        match self.docker.remove_container(name, Some(opts)).await {
            Ok(()) => Ok(true),
            Err(e) => match self.err(&op, e) {
                crate::Error::NotFound { .. } => Ok(false),
                other => Err(other),
            },
        }
    }
}
