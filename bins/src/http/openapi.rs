//! The routes of one process, assembled from data: each service contributes route
//! groups ([`ApiGroup`]), and the process serves the union — one router, one OpenAPI
//! document (`/openapi.json`) and one Swagger UI (`/docs`) — whatever services it
//! runs.
//!
//! Each group is a poem-openapi [`OpenApi`] whose operations declare their query
//! parameters once, as a [`QuerySpec`] ([`Queries`]); the document's parameters are
//! generated from those same specs ([`Documented`]), so they cannot drift from what
//! the handlers accept.

use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;
use std::sync::Arc;

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem::{EndpointExt, Request, Route, RouteMethod};
use poem_openapi::registry::{MetaApi, MetaOperationParam, MetaParamIn, Registry};
use poem_openapi::{OpenApi, OpenApiService};
use serde_json::{Map, Value};

use super::jsonapi::QuerySpec;
use super::jsonapi::body::REQUEST_SUFFIX;

/// The title of the OpenAPI document.
const TITLE: &str = "Emporium";
/// Its description.
const DESCRIPTION: &str = "Emporium shop backend. JSON:API 1.1 (application/vnd.api+json) \
     under /v1; writes need an admin access token (Authorization: Bearer) or the X-API-Key \
     header.";

/// The query parameters each operation of an API takes, by operation id. An
/// operation not listed takes none: its route refuses any (400) before the handler
/// runs.
pub trait Queries {
    /// `(operation id, spec)` for every operation that takes query parameters.
    const QUERIES: &'static [(&'static str, &'static QuerySpec)];
}

/// An API whose document lists each operation's query parameters from its
/// [`QuerySpec`].
pub struct Documented<T>(pub T);

impl<T: OpenApi + Queries> OpenApi for Documented<T> {
    fn meta() -> Vec<MetaApi> {
        let mut apis = T::meta();
        for operation in apis
            .iter_mut()
            .flat_map(|api| api.paths.iter_mut())
            .flat_map(|path| path.operations.iter_mut())
        {
            let spec = T::QUERIES
                .iter()
                .find(|(id, _)| Some(*id) == operation.operation_id)
                .map(|(_, spec)| *spec);
            if let Some(spec) = spec {
                operation
                    .params
                    .extend(
                        spec.parameters()
                            .into_iter()
                            .map(|parameter| MetaOperationParam {
                                name: parameter.name,
                                schema: parameter.schema,
                                in_type: MetaParamIn::Query,
                                description: Some(parameter.description),
                                required: false,
                                deprecated: false,
                                explode: true,
                                style: None,
                            }),
                    );
            }
        }
        apis
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    /// The API's routes; those of operations without a [`QuerySpec`] refuse every
    /// query parameter (400) before their handler runs.
    fn add_routes(self, route_table: &mut RouteTable) {
        let mut routes = RouteTable::new();
        self.0.add_routes(&mut routes);
        let queried: HashSet<(String, Method)> = T::meta()
            .into_iter()
            .flat_map(|api| api.paths)
            .flat_map(|path| {
                let route = route_shape(&path.path);
                path.operations
                    .into_iter()
                    .filter(|op| {
                        T::QUERIES
                            .iter()
                            .any(|(id, _)| Some(*id) == op.operation_id)
                    })
                    .map(move |op| (route.clone(), op.method))
            })
            .collect();
        for (path, methods) in routes {
            for (method, handler) in methods {
                let handler = if queried.contains(&(route_shape(&path), method.clone())) {
                    handler
                } else {
                    handler.before(refuse_query).boxed()
                };
                route_table
                    .entry(path.clone())
                    .or_default()
                    .insert(method, handler);
            }
        }
    }
}

/// A path with its parameters blanked (`/v1/products/{}`): the document writes
/// `{id}`, the route table `:param0`.
fn route_shape(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with(':') || segment.starts_with('{') {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// 400 for a request with query parameters to an operation that takes none.
async fn refuse_query(request: Request) -> poem::Result<Request> {
    QuerySpec::NONE.parse(request.uri().query())?;
    Ok(request)
}

/// The document of an API without its routes (poem-openapi's service takes the API
/// itself, whose routes go to the process's one router instead).
struct DocumentOnly<T>(PhantomData<T>);

impl<T: OpenApi> OpenApi for DocumentOnly<T> {
    fn meta() -> Vec<MetaApi> {
        T::meta()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn add_routes(self, _: &mut RouteTable) {}
}

/// The operations of one or more groups: path (poem syntax) → method → handler.
pub type RouteTable = HashMap<String, HashMap<Method, BoxEndpoint<'static>>>;

/// One group of routes: its handlers and its part of the document.
pub struct ApiGroup {
    /// Its operations, to be served by the process's one router.
    pub routes: RouteTable,
    /// Its OpenAPI document.
    pub spec: Value,
    /// Each path template (`/v1/products/{id}`) with its methods.
    pub methods: Vec<(String, Vec<Method>)>,
    /// Its operation ids.
    pub operation_ids: Vec<&'static str>,
}

impl ApiGroup {
    /// The group of `api`.
    pub fn new<T: OpenApi + Queries + 'static>(api: T) -> Self {
        let mut methods: Vec<(String, Vec<Method>)> = Vec::new();
        let mut operation_ids = Vec::new();
        for path in Documented::<T>::meta()
            .into_iter()
            .flat_map(|api| api.paths)
        {
            let verbs = path.operations.iter().map(|op| op.method.clone()).collect();
            operation_ids.extend(path.operations.iter().filter_map(|op| op.operation_id));
            methods.push((path.path, verbs));
        }
        let spec = OpenApiService::new(
            DocumentOnly::<Documented<T>>(PhantomData),
            TITLE,
            env!("CARGO_PKG_VERSION"),
        )
        .spec();
        let mut routes = RouteTable::new();
        Documented(api).add_routes(&mut routes);
        Self {
            routes,
            spec: serde_json::from_str(&spec).unwrap_or(Value::Null),
            methods,
            operation_ids,
        }
    }
}

/// One router for the operations of every group (like poem-openapi's own, without
/// the query and cookie extraction our handlers do not use: they read
/// [`QuerySpec`]s themselves). Panics when two groups share an operation id.
pub fn router(groups: Vec<ApiGroup>) -> Route {
    let mut operation_ids = HashSet::new();
    for id in groups.iter().flat_map(|group| &group.operation_ids) {
        assert!(operation_ids.insert(*id), "duplicate operation id: {id}");
    }
    groups.into_iter().flat_map(|group| group.routes).fold(
        Route::new(),
        |route, (path, methods)| {
            let methods = methods
                .into_iter()
                .fold(RouteMethod::new(), |all, (method, handler)| {
                    all.method(method, handler)
                });
            route.at(path, methods)
        },
    )
}

/// One OpenAPI document of `groups` (paths, schemas, security schemes and tags
/// united), with the service's title and description.
pub fn merged_document(groups: &[ApiGroup]) -> Value {
    let mut document = Map::new();
    document.insert("openapi".into(), Value::from("3.0.0"));
    document.insert(
        "info".into(),
        serde_json::json!({
            "title": TITLE,
            "description": DESCRIPTION,
            "version": env!("CARGO_PKG_VERSION"),
        }),
    );
    let mut tags: Vec<Value> = Vec::new();
    let mut paths = Map::new();
    let mut components = Map::new();
    for spec in groups.iter().map(|group| &group.spec) {
        for tag in spec["tags"].as_array().into_iter().flatten() {
            if !tags.iter().any(|known| known["name"] == tag["name"]) {
                tags.push(tag.clone());
            }
        }
        if let Some(group_paths) = spec["paths"].as_object() {
            paths.extend(group_paths.clone());
        }
        for (kind, entries) in spec["components"].as_object().into_iter().flatten() {
            let merged = components
                .entry(kind.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let (Value::Object(merged), Value::Object(entries)) = (merged, entries) {
                merged.extend(entries.clone());
            }
        }
    }
    if let Some(Value::Object(schemas)) = components.get_mut("schemas") {
        for (_, schema) in schemas
            .iter_mut()
            .filter(|(name, _)| name.ends_with(REQUEST_SUFFIX))
        {
            close(schema);
        }
    }
    link_the_purchase_flow(&mut paths);
    document.insert("tags".into(), Value::Array(tags));
    document.insert("paths".into(), Value::Object(paths));
    document.insert("components".into(), Value::Object(components));
    Value::Object(document)
}

/// The links of the purchase flow (OpenAPI `links`, which poem-openapi cannot
/// declare): from a created product to stocking it; from stock, or a listed
/// product, to ordering it or putting it in the cart; from a placed order to
/// reading, cancelling and paying it and to its shipment; from a payment to settling
/// it, and from a settled one to its order, whose shipment can then be dispatched;
/// from a dispatched shipment to its delivery; from a cart line to ordering the
/// cart; from a webhook to its management. Clients and stateful fuzzers (schemathesis) follow them to walk the
/// flow. A link is added only where both operations are in the document.
fn link_the_purchase_flow(paths: &mut Map<String, Value>) {
    /// (path, method, status, [(link name, link)]).
    type LinksOf = (
        &'static str,
        &'static str,
        &'static str,
        Vec<(&'static str, Value)>,
    );
    use serde_json::json;
    let its_id = "$response.body#/data/id";
    let shipment_id = "$response.body#/data/relationships/shipment/data/id";
    let by_id =
        |operation: &str, id: &str| json!({"operationId": operation, "parameters": {"id": id}});
    // A move of the resource just answered, whose body names it (optional bodies:
    // with one, its id must be the URL's).
    let settle = |operation: &str, kind: &str| {
        json!({"operationId": operation, "parameters": {"id": its_id},
            "requestBody": {"data": {"type": kind, "id": "{$response.body#/data/id}"}}})
    };
    let address = json!({"name": "Ada Lovelace", "line1": "1 Analytical St", "line2": null,
        "city": "London", "postalCode": "N1 1AA", "country": "GB"});
    // An order of one unit of the product `product` (an expression) names.
    let order_of = |product: &str| {
        json!({"operationId": "placeOrder", "requestBody": {"data": {"type": "orders",
            "attributes": {"lines": [{"productId": format!("{{{product}}}"), "quantity": 1}],
                "shippingAddress": address.clone()}}}})
    };
    let cart_item_of = |product: &str| {
        json!({"operationId": "addCartItem", "requestBody": {"data": {"type": "cart-items",
            "attributes": {"quantity": 1}, "relationships": {"product": {"data": {
                "type": "products", "id": format!("{{{product}}}")}}}}}})
    };
    let first_product = "$response.body#/data/0/id";
    let links: Vec<LinksOf> = vec![
        // The purchase flow from its start: a product, its stock, then an order of it
        // or a cart holding it (an admin), or the first product listed (a customer).
        (
            "/v1/products",
            "post",
            "201",
            vec![(
                "StockIt",
                json!({"operationId": "createInventory", "requestBody": {"data": {
                    "type": "inventory", "attributes": {"onHand": 1000},
                    "relationships": {"product": {"data": {"type": "products",
                        "id": "{$response.body#/data/id}"}}}}}}),
            )],
        ),
        (
            "/v1/inventory",
            "post",
            "201",
            vec![
                ("OrderIt", order_of(its_id)),
                ("PutItInTheCart", cart_item_of(its_id)),
            ],
        ),
        (
            "/v1/products",
            "get",
            "200",
            vec![
                ("OrderTheFirst", order_of(first_product)),
                ("PutTheFirstInTheCart", cart_item_of(first_product)),
            ],
        ),
        (
            "/v1/payments/{id}/succeed",
            "post",
            "200",
            vec![(
                "GetThePaidOrder",
                by_id(
                    "getOrder",
                    "$response.body#/data/relationships/order/data/id",
                ),
            )],
        ),
        (
            "/v1/orders/{id}",
            "get",
            "200",
            vec![(
                "DispatchItsShipment",
                json!({"operationId": "dispatchShipment",
                    "parameters": {"id": shipment_id},
                    "requestBody": {"data": {"type": "shipments",
                        "id": "{$response.body#/data/relationships/shipment/data/id}",
                        "attributes": {"carrier": "DHL", "trackingNumber": "JD014600006281"}}}}),
            )],
        ),
        (
            "/v1/orders",
            "post",
            "201",
            vec![
                ("GetOrder", by_id("getOrder", its_id)),
                ("CancelOrder", by_id("cancelOrder", its_id)),
                ("ListOrderEvents", by_id("listOrderEvents", its_id)),
                (
                    "PayOrder",
                    json!({"operationId": "createPayment", "requestBody": {"data": {
                        "type": "payments", "relationships": {"order": {"data": {
                            "type": "orders", "id": "{$response.body#/data/id}"}}}}}}),
                ),
                // Its shipment is dispatched once it is paid: from the paid order.
                ("GetShipment", by_id("getShipment", shipment_id)),
            ],
        ),
        (
            "/v1/payments",
            "post",
            "201",
            vec![
                ("GetPayment", by_id("getPayment", its_id)),
                ("SucceedPayment", settle("succeedPayment", "payments")),
                ("FailPayment", settle("failPayment", "payments")),
            ],
        ),
        (
            "/v1/shipments/{id}/dispatch",
            "post",
            "200",
            vec![("DeliverShipment", settle("deliverShipment", "shipments"))],
        ),
        (
            "/v1/cart/items",
            "post",
            "201",
            vec![(
                "OrderTheCart",
                json!({"operationId": "placeOrder", "requestBody": {"data": {"type": "orders",
                    "attributes": {"shippingAddress": address.clone()}}}}),
            )],
        ),
        (
            "/v1/webhooks",
            "post",
            "201",
            vec![
                ("GetWebhook", by_id("getWebhook", its_id)),
                (
                    "ListWebhookDeliveries",
                    by_id("listWebhookDeliveries", its_id),
                ),
                ("RotateWebhookSecret", by_id("rotateWebhookSecret", its_id)),
                ("DeleteWebhook", by_id("deleteWebhook", its_id)),
            ],
        ),
    ];
    let operations: std::collections::HashSet<String> = paths
        .values()
        .filter_map(Value::as_object)
        .flat_map(|methods| methods.values())
        .filter_map(|operation| operation["operationId"].as_str().map(str::to_owned))
        .collect();
    for (path, method, status, path_links) in links {
        let Some(response) = paths
            .get_mut(path)
            .and_then(|methods| methods.get_mut(method))
            .and_then(|operation| operation.get_mut("responses"))
            .and_then(|responses| responses.get_mut(status))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let mut declared = Map::new();
        for (name, mut link) in path_links {
            if link["operationId"]
                .as_str()
                .is_some_and(|operation| operations.contains(operation))
            {
                // A link's body is the whole body (schemathesis would otherwise merge
                // it into a generated one, keeping members the server refuses).
                if link.get("requestBody").is_some() {
                    link["x-schemathesis"] = serde_json::json!({"merge_body": false});
                }
                declared.insert(name.to_owned(), link);
            }
        }
        if !declared.is_empty() {
            response.insert("links".into(), Value::Object(declared));
        }
    }
}

/// Marks every object of a request schema that lists its members as closed
/// (`additionalProperties: false`): the reader refuses members it does not know.
/// (poem-openapi's schema model cannot say `false` itself.)
fn close(schema: &mut Value) {
    let Value::Object(object) = schema else {
        return;
    };
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        for property in properties.values_mut() {
            close(property);
        }
        object.insert("additionalProperties".into(), Value::Bool(false));
    }
    for key in ["items", "allOf", "anyOf", "oneOf"] {
        match object.get_mut(key) {
            Some(Value::Array(schemas)) => schemas.iter_mut().for_each(close),
            Some(nested @ Value::Object(_)) => close(nested),
            _ => {}
        }
    }
}

/// The Swagger UI page showing `document`.
pub fn swagger_ui_html(document: &str) -> String {
    // poem-openapi renders its Swagger UI page with the document inlined; render it for
    // an empty API and put this document in its place.
    let empty = OpenApiService::new(NoRoutes, TITLE, env!("CARGO_PKG_VERSION"));
    empty.swagger_ui_html().replacen(&empty.spec(), document, 1)
}

/// An API without operations (see [`swagger_ui_html`]).
struct NoRoutes;

impl OpenApi for NoRoutes {
    fn meta() -> Vec<MetaApi> {
        Vec::new()
    }

    fn register(_registry: &mut Registry) {}

    fn add_routes(
        self,
        _route_table: &mut HashMap<String, HashMap<Method, poem::endpoint::BoxEndpoint<'static>>>,
    ) {
    }
}

/// The methods each path template answers, for `Allow` on 405 answers and `OPTIONS`.
#[derive(Debug, Clone, Default)]
pub struct AllowedMethods {
    /// (segments, `Allow`, template as a label) of each route.
    routes: Vec<(Vec<String>, String, Arc<str>)>,
    /// By number of segments, then by the collection (the third segment,
    /// `/v1/<collection>/…`), the routes that may match: a lookup compares only
    /// those. Routes of fewer segments, or with a parameter there, are under "".
    by_shape: Vec<HashMap<Box<str>, Vec<usize>>>,
}

/// The segment of a path that [`AllowedMethods`] groups routes by.
const COLLECTION: usize = 2;

impl AllowedMethods {
    /// The table of `groups`' paths.
    pub fn new(groups: &[ApiGroup]) -> Self {
        let mut table = Vec::new();
        for (template, methods) in groups.iter().flat_map(|group| &group.methods) {
            let mut names: Vec<&str> = methods.iter().map(Method::as_str).collect();
            if names.contains(&"GET") {
                names.push("HEAD");
            }
            names.push("OPTIONS");
            names.sort_unstable();
            names.dedup();
            let segments: Vec<String> = template.split('/').map(str::to_owned).collect();
            // As a label: `/v1/orders/:id` (braces trip some text-format parsers).
            let label = template.replace('{', ":").replace('}', "");
            table.push((segments, names.join(", "), Arc::from(label)));
        }
        let mut by_shape: Vec<HashMap<Box<str>, Vec<usize>>> = Vec::new();
        for (index, (segments, _, _)) in table.iter().enumerate() {
            if by_shape.len() <= segments.len() {
                by_shape.resize_with(segments.len() + 1, HashMap::new);
            }
            let collection = match segments.get(COLLECTION) {
                Some(segment) if !segment.starts_with('{') => segment.as_str(),
                _ => "",
            };
            by_shape[segments.len()]
                .entry(collection.into())
                .or_default()
                .push(index);
        }
        Self {
            routes: table,
            by_shape,
        }
    }

    /// The `Allow` value of the route at `path`, if a route is there. Like the
    /// router, a literal segment wins over a parameter (`/v1/users/me` over
    /// `/v1/users/{id}`).
    pub fn for_path(&self, path: &str) -> Option<&str> {
        self.index_of(path)
            .map(|index| self.routes[index].1.as_str())
    }

    /// Every route's template, written `/v1/orders/:id`, in the table's order (see
    /// [`index_of`](Self::index_of)): what metrics label a request with (never the
    /// raw path).
    pub fn templates(&self) -> impl Iterator<Item = Arc<str>> + '_ {
        self.routes.iter().map(|(_, _, template)| template.clone())
    }

    /// The position in the table of the route at `path`, if a route is there: the
    /// path is split once (on the stack), then the templates of as many segments and
    /// the same collection are compared; of those that match, the one with the most
    /// literal segments wins. Every request is labelled through here, so it must stay
    /// cheap.
    pub fn index_of(&self, path: &str) -> Option<usize> {
        const MOST_SEGMENTS: usize = 16;
        let mut given = [""; MOST_SEGMENTS];
        let mut count = 0;
        for segment in path.split('/') {
            // Longer than any route.
            *given.get_mut(count)? = segment;
            count += 1;
        }
        let given = &given[..count];
        let shapes = self.by_shape.get(count)?;
        let collection = given.get(COLLECTION).copied().unwrap_or("");
        let same_collection = shapes.get(collection);
        // Under "" too: a path of fewer segments, whose bucket that already is, once.
        let any_collection = shapes.get("").filter(|_| !collection.is_empty());
        let mut best: Option<(usize, usize)> = None;
        for &index in same_collection.into_iter().chain(any_collection).flatten() {
            let (template, _, _) = &self.routes[index];
            let mut literals = 0;
            let matches = template.iter().zip(given).all(|(expected, given)| {
                if expected.starts_with('{') {
                    !given.is_empty()
                } else {
                    literals += 1;
                    expected == given
                }
            });
            if matches && best.is_none_or(|(most, _)| literals > most) {
                best = Some((literals, index));
            }
        }
        best.map(|(_, index)| index)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn table(templates: &[(&str, &[Method])]) -> AllowedMethods {
        AllowedMethods::new(&[ApiGroup {
            routes: Default::default(),
            spec: Value::Null,
            methods: templates
                .iter()
                .map(|(template, methods)| (template.to_string(), methods.to_vec()))
                .collect(),
            operation_ids: Vec::new(),
        }])
    }

    /// Each path finds its route as the router would: a literal segment wins over a
    /// parameter, a parameter takes any non-empty segment (of any collection where
    /// it stands for the collection), and a path of another length or an empty
    /// parameter finds none.
    #[test]
    fn a_path_finds_its_route_and_template() {
        let allowed = table(&[
            ("/v1/users/{id}", &[Method::GET, Method::PATCH]),
            ("/v1/users/me", &[Method::GET]),
            ("/v1/products", &[Method::GET, Method::POST]),
            ("/v1/products/{id}", &[Method::GET]),
            ("/v1/{collection}/{id}/links", &[Method::GET]),
            ("/health", &[Method::GET]),
        ]);
        let templates: Vec<Arc<str>> = allowed.templates().collect();
        let template_of = |path: &str| allowed.index_of(path).map(|i| &*templates[i]);
        assert_eq!(template_of("/v1/users/me"), Some("/v1/users/me"));
        assert_eq!(template_of("/v1/users/42"), Some("/v1/users/:id"));
        assert_eq!(template_of("/v1/products"), Some("/v1/products"));
        assert_eq!(template_of("/v1/products/7"), Some("/v1/products/:id"));
        assert_eq!(
            template_of("/v1/orders/7/links"),
            Some("/v1/:collection/:id/links")
        );
        assert_eq!(template_of("/health"), Some("/health"));
        for unknown in [
            "/v1/products/",
            "/v1/orders/7",
            "/v1/products/7/x",
            "/",
            "/v1",
        ] {
            assert_eq!(template_of(unknown), None, "{unknown}");
        }
        let deep = format!("/v1/products{}", "/x".repeat(40));
        assert_eq!(template_of(&deep), None);
        assert_eq!(allowed.for_path("/v1/users/me"), Some("GET, HEAD, OPTIONS"));
        assert_eq!(
            allowed.for_path("/v1/users/42"),
            Some("GET, HEAD, OPTIONS, PATCH")
        );
    }

    /// A placed order links to paying it (its id in the payment's body) and to its
    /// shipment; an operation the document lacks is not linked to.
    #[test]
    fn the_purchase_flow_is_linked_where_both_ends_exist() {
        let operation = |id: &str, status: &str| json!({"operationId": id, "responses": {status: {"description": "ok"}}});
        let mut paths: Map<String, Value> = serde_json::from_value(json!({
            "/v1/orders": {"post": operation("placeOrder", "201")},
            "/v1/orders/{id}": {"get": operation("getOrder", "200")},
            "/v1/payments": {"post": operation("createPayment", "201")},
        }))
        .unwrap();
        link_the_purchase_flow(&mut paths);
        let links = &paths["/v1/orders"]["post"]["responses"]["201"]["links"];
        assert_eq!(
            links["GetOrder"]["parameters"]["id"],
            "$response.body#/data/id"
        );
        assert_eq!(links["PayOrder"]["operationId"], "createPayment");
        assert_eq!(
            links["PayOrder"]["requestBody"]["data"]["relationships"]["order"]["data"]["id"],
            "{$response.body#/data/id}"
        );
        assert!(links.get("GetShipment").is_none(), "no getShipment here");
        assert!(
            paths["/v1/payments"]["post"]["responses"]["201"]
                .get("links")
                .is_none(),
            "no getPayment or succeedPayment here"
        );
    }
}
