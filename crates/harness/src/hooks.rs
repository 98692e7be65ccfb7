//! Hook functions for Lambda and ECS deployments: an HTTP stub receives each invocation (`{DeploymentId,
//! LifecycleEventHookExecutionId}`) and a task answers it through PutLifecycleEventHookExecutionStatus.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cutover_api_types::codedeploy::{self as wire, Operation};
use cutover_client::api::ApiClient;

use crate::http_stub::Request;

/// Answers every invocation the stub received (and will receive) with `status` (`Succeeded` or `Failed`), until the
/// returned task is aborted.
pub fn answer(
    client: ApiClient,
    requests: Arc<Mutex<Vec<(Request, u16)>>>,
    status: &'static str,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut answered = 0;
        loop {
            let received = requests.lock().expect("requests").clone();
            for (request, _) in received.iter().skip(answered) {
                let payload: serde_json::Value = serde_json::from_slice(&request.body).expect("hook payload");
                let _: wire::PutLifecycleEventHookExecutionStatusOutput = client
                    .call(
                        Operation::PutLifecycleEventHookExecutionStatus,
                        &serde_json::json!({
                            "deploymentId": payload["DeploymentId"],
                            "lifecycleEventHookExecutionId": payload["LifecycleEventHookExecutionId"],
                            "status": status,
                        }),
                    )
                    .await
                    .expect("PutLifecycleEventHookExecutionStatus");
            }
            answered = received.len();
            // Polls the stub's record of requests (there is nothing to wait on).
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}
