//! Deployment actions: a confirmation page (GET), then a POST form with a CSRF token that calls the API's own
//! handler (`StopDeployment`, `ContinueDeployment`), so the console and the API behave the same.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::Redirect;
use axum::{Extension, Form};
use cutover_api_types::codedeploy as wire;
use serde::Deserialize;

use super::view::{Chrome, application_href, deployment_href, group_href, is_terminal, status_text};
use super::{ConsoleError, ConsoleResult, ConsoleUser, CsrfKey};
use crate::AppState;
use crate::api::deployments;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Stop,
    StopAndRollBack,
    Continue,
}

impl Action {
    fn parse(text: &str) -> ConsoleResult<Action> {
        match text {
            "stop" => Ok(Action::Stop),
            "stop-and-roll-back" => Ok(Action::StopAndRollBack),
            "continue" => Ok(Action::Continue),
            other => Err(ConsoleError::NotFound(format!("There is no action {other:?}."))),
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Action::Stop => "stop",
            Action::StopAndRollBack => "stop-and-roll-back",
            Action::Continue => "continue",
        }
    }

    fn button(self) -> &'static str {
        match self {
            Action::Stop => "Stop deployment",
            Action::StopAndRollBack => "Stop and roll back",
            Action::Continue => "Continue deployment",
        }
    }

    fn explanation(self) -> &'static str {
        match self {
            Action::Stop => {
                "Instances that have not started are skipped; lifecycle events already running finish first. \
                 No rollback is made."
            }
            Action::StopAndRollBack => {
                "Instances that have not started are skipped; lifecycle events already running finish first. Then \
                 the group's last successful revision is deployed again to the instances of this deployment."
            }
            Action::Continue => "The deployment goes on from the Ready state it waits in.",
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "console/confirm.html")]
pub(crate) struct ConfirmPage {
    chrome: Chrome,
    id: String,
    status: String,
    action_href: String,
    cancel_href: String,
    button: &'static str,
    explanation: &'static str,
    danger: bool,
    csrf: String,
}

/// `GET /console/deployments/{id}/confirm/{action}`: what the action does, and the form that does it.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    user: ConsoleUser,
    Extension(csrf): Extension<Arc<CsrfKey>>,
    Path((id, action)): Path<(String, String)>,
) -> ConsoleResult<ConfirmPage> {
    let action = Action::parse(&action)?;
    let mut tx = state.store().begin().await?;
    let row =
        tx.deployment(&id).await?.ok_or_else(|| ConsoleError::NotFound(format!("There is no deployment {id}.")))?;
    if is_terminal(&row.status) {
        return Err(ConsoleError::Refused(format!(
            "Deployment {id} is already over ({}); there is nothing to {}.",
            status_text(&row.status),
            action.slug().replace('-', " ")
        )));
    }
    Ok(ConfirmPage {
        chrome: Chrome::new(
            &user.name,
            &[
                (&row.application_name, application_href(&row.application_name)),
                (&row.deployment_group_name, group_href(&row.application_name, &row.deployment_group_name)),
                (&row.id, deployment_href(&row.id)),
                ("Confirm", format!("{}/confirm/{}", deployment_href(&row.id), action.slug())),
            ],
        ),
        status: status_text(&row.status),
        action_href: format!("{}/actions/{}", deployment_href(&row.id), action.slug()),
        cancel_href: deployment_href(&row.id),
        button: action.button(),
        explanation: action.explanation(),
        danger: action != Action::Continue,
        csrf: csrf.token(&user, state.inner.clock.now_ms()),
        id: row.id,
    })
}

#[derive(Deserialize)]
pub(crate) struct ActionForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /console/deployments/{id}/actions/{action}`: checks the form's origin and token, runs the API's handler, and
/// goes back to the deployment page.
pub(crate) async fn perform(
    State(state): State<AppState>,
    user: ConsoleUser,
    Extension(csrf): Extension<Arc<CsrfKey>>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> ConsoleResult<Redirect> {
    let action = Action::parse(&action)?;
    check_same_origin(&headers)?;
    if !csrf.verify(&user, &form.csrf, state.inner.clock.now_ms()) {
        return Err(ConsoleError::Forbidden(
            "This form has expired or did not come from this console. Go back, reload the page and try again."
                .to_owned(),
        ));
    }
    tracing::info!(message = "Console action.", user = %user.name, action = action.slug(), deployment_id = %id);
    let operation = if action == Action::Continue { "ContinueDeployment" } else { "StopDeployment" };
    let source = crate::auth::Source(format!("{} (console)", user.source));
    if let Err(error) = user.require(operation) {
        crate::auth::audit(
            &state,
            &user.principal(),
            &source,
            operation,
            &format!("deploymentId={id}"),
            "AccessDeniedException",
        )
        .await;
        return Err(error);
    }
    let result = perform_action(&state, action, &id).await;
    let outcome = match &result {
        Ok(_) => "Success",
        Err(ConsoleError::Refused(_)) => "Refused",
        Err(_) => "Failed",
    };
    crate::auth::audit(&state, &user.principal(), &source, operation, &format!("deploymentId={id}"), outcome).await;
    let done = result?;
    Ok(Redirect::to(&format!("{}?done={done}", deployment_href(&id))))
}

async fn perform_action(state: &AppState, action: Action, id: &str) -> ConsoleResult<&'static str> {
    let id = id.to_owned();
    let done = match action {
        Action::Stop | Action::StopAndRollBack => {
            let input = wire::StopDeploymentInput {
                deployment_id: Some(id.clone()),
                auto_rollback_enabled: Some(action == Action::StopAndRollBack),
            };
            let output = deployments::stop(state.clone(), input).await?;
            if output.status.as_deref() == Some("Succeeded") { "stopped" } else { "stopping" }
        }
        Action::Continue => {
            let input = wire::ContinueDeploymentInput { deployment_id: Some(id.clone()), deployment_wait_type: None };
            deployments::continue_deployment(state.clone(), input).await?;
            "continued"
        }
    };
    Ok(done)
}

/// Browsers name the page a form was sent from: refuse forms sent from other sites (the token already binds them
/// to the user; this refuses them before any work).
fn check_same_origin(headers: &HeaderMap) -> ConsoleResult<()> {
    if headers.get("sec-fetch-site").and_then(|value| value.to_str().ok()).is_some_and(|site| site == "cross-site") {
        return Err(ConsoleError::Forbidden("Forms from other sites are refused.".to_owned()));
    }
    let host = headers.get(header::HOST).and_then(|value| value.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|value| value.to_str().ok())
        && origin != "null"
    {
        let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or(origin);
        if Some(origin_host) != host {
            return Err(ConsoleError::Forbidden("Forms from other sites are refused.".to_owned()));
        }
    }
    Ok(())
}
