//! First start of a hub: the initial administrator and the bundled collections.

use serde_json::Value;
use vigil_store::{NewCollection, Role, Tlp};

use crate::error::ApiError;
use crate::taxii::{prepare_as_hub, store_objects, StatusBuilder};
use crate::AppState;

/// A fresh random collection id (a UUID, as TAXII requires).
pub fn new_collection_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A collection to create and fill on first start.
#[derive(Debug, Clone)]
pub struct Seed {
    /// Alias (also how the seed is recognised as already loaded).
    pub alias: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Readable anonymously.
    pub public: bool,
    /// Level of objects without a TLP marking (public reports: TLP:CLEAR).
    pub default_tlp: Tlp,
    /// The objects.
    pub objects: Vec<Value>,
}

/// What the first start did.
#[derive(Debug, Default)]
pub struct FirstStart {
    /// The new administrator's token, when the hub had no user yet (show it once).
    pub admin_token: Option<String>,
    /// Collections created, with the number of objects stored and rejected.
    pub loaded: Vec<(String, usize, usize)>,
}

/// Creates the administrator (if there is no user) and the seed collections
/// that do not exist yet.
pub async fn first_start(state: &AppState, seeds: Vec<Seed>) -> Result<FirstStart, ApiError> {
    let store = state.hub.store.as_ref();
    let mut out = FirstStart::default();
    if store.users().await?.is_empty() {
        let admin = store.create_user("admin", None, Role::Admin).await?;
        let (_, token) =
            crate::admin::issue_token(store, admin.id, "initial admin token", None).await?;
        out.admin_token = Some(token);
    }
    for seed in seeds {
        if store.collection(&seed.alias).await?.is_some() {
            continue;
        }
        let c = store
            .create_collection(&NewCollection {
                id: new_collection_id(),
                alias: Some(seed.alias.clone()),
                title: seed.title,
                description: seed.description,
                public: seed.public,
                owner_org: None,
            })
            .await?;
        // Bundled objects without a TLP marking get the seed's level, not the hub default.
        let hub_for_seed = crate::Hub {
            store: state.hub.store.clone(),
            config: crate::HubConfig {
                default_tlp: seed.default_tlp,
                ..state.hub.config.clone()
            },
            secret: Vec::new(),
            metrics: crate::metrics::Metrics::default(),
            limiter: crate::metrics::RateLimiter::new(None),
        };
        let mut st = StatusBuilder::default();
        let prepared = prepare_as_hub(&hub_for_seed, &seed.objects, &mut st);
        let rejected = st.failures.len();
        for f in &st.failures {
            tracing::warn!(collection = %seed.alias, failure = %f, "bundled object rejected");
        }
        let n = prepared.len();
        store_objects(&state.hub, &c.id, prepared, &mut st).await?;
        out.loaded.push((seed.alias, n, rejected));
    }
    Ok(out)
}
