//! `/v1/cart`: the caller's own cart (`carts`, id = the user id) and its lines
//! (`cart-items`, id = the product id). Lines snapshot the product's name, SKU and
//! price when added; nothing about price or owner is read from a request body.

use std::sync::Arc;

use emporium_application::carts::{CartView, Carts};
use emporium_domain::catalog::ProductId;
use emporium_domain::orders::{Added, LineQuantity, PricedLine};
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::{Object, OpenApi};
use serde::Serialize;
use uuid::Uuid;

use super::ApiTags;
use super::jsonapi::body::integer;
use super::jsonapi::{
    Amount, ApiError, ClientId, Created, FieldSet, Fields, JsonApi, JsonApiBody, Linkage, Member,
    NoContent, QuerySpec, Relationship, Resource, Saved, SingleDocument, Timestamp, Write, path_id,
};
use super::middleware::auth::SignedIn;
use super::openapi::Queries;
use super::products::Products;

/// The `carts` resource: the caller's cart.
pub struct CartResource;

/// One priced line, as a cart's `items` and an order's `lines` show it: the product
/// and its SKU, name and price when the line was written (added to the cart, or
/// ordered).
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename = "PricedLine", rename_all = "camelCase", read_only_all)]
pub struct PricedLineAttributes {
    /// The product.
    pub product_id: Uuid,
    /// Its SKU then.
    pub sku: String,
    /// Its name then.
    pub name: String,
    /// Its price then.
    pub unit_price: Amount,
    /// Units, 1 to 99.
    pub quantity: i64,
    /// `unitPrice × quantity`.
    pub line_total: Amount,
}

impl From<&PricedLine> for PricedLineAttributes {
    fn from(line: &PricedLine) -> Self {
        Self {
            product_id: line.product_id.0,
            sku: line.sku.to_string(),
            name: line.name.to_string(),
            unit_price: Amount(line.unit_price.amount()),
            quantity: line.quantity.value(),
            line_total: Amount(line.line_total().amount()),
        }
    }
}

/// A cart.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename = "CartAttributes", rename_all = "camelCase", read_only_all)]
pub struct CartAttributes {
    /// The lines, in the order they were first added.
    pub items: Vec<PricedLineAttributes>,
    /// The sum of the line totals.
    pub total: Amount,
    /// The shop currency (ISO 4217).
    pub currency: String,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl Resource for CartResource {
    type Model = CartView;
    type Attributes = CartAttributes;
    type Included = ();
    const TYPE: &'static str = "carts";
    const NAME: &'static str = "Cart";
    const PATH: Option<&'static str> = Some("/v1/cart");
    const ATTRIBUTES: &'static [&'static str] = &["items", "total", "currency", "updatedAt"];
    /// There is one cart per caller, at `/v1/cart`.
    const SINGLETON: bool = true;

    fn id(view: &CartView) -> Uuid {
        view.cart.owner().0
    }

    fn attributes(view: CartView) -> CartAttributes {
        let total = view.cart.total();
        CartAttributes {
            items: view
                .cart
                .lines()
                .iter()
                .map(PricedLineAttributes::from)
                .collect(),
            total: Amount(total.amount()),
            currency: view.currency.to_string(),
            updated_at: view.cart.updated_at().into(),
        }
    }
}

/// The `cart-items` resource: one line of the caller's cart.
pub struct CartItems;

/// A cart line.
#[derive(Serialize, Object)]
#[serde(rename_all = "camelCase")]
#[oai(rename = "CartItemAttributes", rename_all = "camelCase")]
pub struct CartItemAttributes {
    /// The product's SKU when added.
    #[oai(read_only)]
    pub sku: String,
    /// The product's name when added.
    #[oai(read_only)]
    pub name: String,
    /// The product's price when added.
    #[oai(read_only)]
    pub unit_price: Amount,
    /// Units, 1 to 99. Adding to a line sums the units.
    #[oai(validator(minimum(value = "1"), maximum(value = "99")))]
    pub quantity: i64,
    /// `unitPrice × quantity`.
    #[oai(read_only)]
    pub line_total: Amount,
}

impl Resource for CartItems {
    type Model = PricedLine;
    type Attributes = CartItemAttributes;
    type Included = CartResource;
    const TYPE: &'static str = "cart-items";
    const NAME: &'static str = "CartItem";
    const PATH: Option<&'static str> = Some("/v1/cart/items");
    const ATTRIBUTES: &'static [&'static str] =
        &["sku", "name", "unitPrice", "quantity", "lineTotal"];
    const RELATIONSHIPS: &'static [Relationship] =
        &[Relationship::to_one("product", Products::TYPE)];

    fn id(line: &PricedLine) -> Uuid {
        line.product_id.0
    }

    fn linkage(line: &PricedLine) -> Vec<Linkage> {
        vec![Linkage::One(Some(line.product_id.0))]
    }

    fn attributes(line: PricedLine) -> CartItemAttributes {
        CartItemAttributes {
            line_total: Amount(line.line_total().amount()),
            sku: line.sku.into(),
            name: line.name.into(),
            unit_price: Amount(line.unit_price.amount()),
            quantity: line.quantity.value(),
        }
    }
}

/// `POST /v1/cart/items`: a product and how many units to add.
pub struct AddCartItem;

impl Write for AddCartItem {
    type Resource = CartItems;
    const NAME: &'static str = "CartItemAdd";
    const ID: ClientId = ClientId::Refused;
    const ATTRIBUTES: &'static [Member] = &[Member::required("quantity")];
    const RELATIONSHIPS: &'static [Member] = &[Member::required("product")];
}

/// `PATCH /v1/cart/items/{product_id}`: the line's new quantity.
pub struct UpdateCartItem;

impl Write for UpdateCartItem {
    type Resource = CartItems;
    const NAME: &'static str = "CartItemUpdate";
    const ID: ClientId = ClientId::MatchesUrl;
    const ATTRIBUTES: &'static [Member] = &[Member::required("quantity")];
}

const ADD: QuerySpec = QuerySpec {
    includes: &["cart"],
    fieldsets: &[FieldSet::of::<CartItems>(), FieldSet::of::<CartResource>()],
    ..QuerySpec::NONE
};

/// The cart routes.
pub struct CartsApi {
    carts: Arc<Carts>,
}

impl CartsApi {
    /// Routes over the cart use cases.
    pub fn new(carts: Arc<Carts>) -> Self {
        Self { carts }
    }
}

impl Queries for CartsApi {
    const QUERIES: &'static [(&'static str, &'static QuerySpec)] = &[("addCartItem", &ADD)];
}

/// A cart line's id from the URL (its product id); 404 when not a UUID.
fn line_id(raw: &str) -> Result<ProductId, ApiError> {
    path_id(raw, "cart item").map(ProductId)
}

/// The line of `product_id` in `view` (there after a successful change).
fn line_of(view: &CartView, product_id: ProductId) -> Result<PricedLine, ApiError> {
    view.cart.line(product_id).cloned().ok_or_else(|| {
        ApiError::internal(
            "reading the changed cart line",
            &anyhow::anyhow!("line {product_id} is not in the saved cart"),
        )
    })
}

#[OpenApi(tag = "ApiTags::Carts")]
impl CartsApi {
    /// Read my cart
    ///
    /// The caller's own cart; an empty one when nothing was added yet.
    #[oai(path = "/v1/cart", method = "get", operation_id = "getCart")]
    async fn get(&self, user: SignedIn) -> Result<JsonApi<SingleDocument<CartResource>>, ApiError> {
        let view = self.carts.get.execute(&user.0).await?;
        JsonApi::single(CartResource::object(view, Fields::ALL))
    }

    /// Empty my cart
    #[oai(path = "/v1/cart", method = "delete", operation_id = "clearCart")]
    async fn clear(&self, user: SignedIn) -> Result<NoContent, ApiError> {
        self.carts.clear.execute(&user.0).await?;
        Ok(NoContent)
    }

    /// Add to my cart
    ///
    /// Adds `quantity` units of the product (active products only: 422
    /// `product_unavailable` otherwise), snapshotting its name, SKU and price now.
    /// 201 with the new line, or 200 when the units were added to an existing line
    /// (at most 99 units: 422 `too_many_units`; at most 50 lines: 409 `cart_full`).
    /// `include=cart` returns the whole cart beside it.
    #[oai(path = "/v1/cart/items", method = "post", operation_id = "addCartItem")]
    async fn add(
        &self,
        request: &Request,
        user: SignedIn,
        body: JsonApiBody<AddCartItem>,
    ) -> Result<Saved<SingleDocument<CartItems>>, ApiError> {
        let query = ADD.parse(request.uri().query())?;
        let (product_id, quantity) = body.line()?;
        let (added, view) = self
            .carts
            .add
            .execute(&user.0, product_id, quantity)
            .await?;
        let line = CartItems::object(line_of(&view, product_id)?, query.fields_of::<CartItems>());
        let included = if query.includes("cart") {
            vec![CartResource::object(
                view,
                query.fields_of::<CartResource>(),
            )]
        } else {
            Vec::new()
        };
        Ok(match added {
            Added::NewLine => Saved::Created(Created::compound(line, included)?),
            Added::ToExistingLine => Saved::Updated(JsonApi::compound(line, included)?),
        })
    }

    /// Change a line of my cart
    ///
    /// Sets the line's units (1 to 99); its snapshot stays as it was.
    #[oai(
        path = "/v1/cart/items/:product_id",
        method = "patch",
        operation_id = "updateCartItem"
    )]
    async fn update(
        &self,
        user: SignedIn,
        /// The product id (UUID).
        product_id: Path<String>,
        body: JsonApiBody<UpdateCartItem>,
    ) -> Result<JsonApi<SingleDocument<CartItems>>, ApiError> {
        let product_id = line_id(&product_id)?;
        let quantity = body.quantity(product_id)?;
        let view = self
            .carts
            .set_quantity
            .execute(&user.0, product_id, quantity)
            .await?;
        JsonApi::single(CartItems::object(line_of(&view, product_id)?, Fields::ALL))
    }

    /// Remove a line from my cart
    #[oai(
        path = "/v1/cart/items/:product_id",
        method = "delete",
        operation_id = "removeCartItem"
    )]
    async fn remove(
        &self,
        user: SignedIn,
        /// The product id (UUID).
        product_id: Path<String>,
    ) -> Result<NoContent, ApiError> {
        let product_id = line_id(&product_id)?;
        self.carts.remove.execute(&user.0, product_id).await?;
        Ok(NoContent)
    }
}

/// Units on a cart line.
fn quantity(value: i64) -> Result<LineQuantity, String> {
    LineQuantity::new(value).map_err(|error| error.to_string())
}

impl JsonApiBody<AddCartItem> {
    /// The product to add and how many units.
    pub fn line(&self) -> Result<(ProductId, LineQuantity), ApiError> {
        let mut document = self.read(None)?;
        let quantity = document.attribute("quantity", &integer(quantity));
        let product = document.to_one("product").flatten();
        document.finish(|| Some((ProductId(product?), quantity?)))
    }
}

impl JsonApiBody<UpdateCartItem> {
    /// The new quantity of the line of `product_id` (the id of the URL).
    pub fn quantity(&self, product_id: ProductId) -> Result<LineQuantity, ApiError> {
        let mut document = self.read(Some(product_id.0))?;
        let quantity = document.attribute("quantity", &integer(quantity));
        document.finish(|| quantity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn add(doc: Value) -> Result<(ProductId, LineQuantity), ApiError> {
        JsonApiBody::<AddCartItem>::from_value(doc).line()
    }

    fn product(id: &str) -> Value {
        json!({"product": {"data": {"type": "products", "id": id}}})
    }

    #[test]
    fn add_reads_the_product_and_quantity() {
        let id = Uuid::from_u128(7);
        let (product_id, quantity) = add(json!({"data": {"type": "cart-items",
            "attributes": {"quantity": 2}, "relationships": product(&id.to_string())}}))
        .unwrap();
        assert_eq!((product_id.0, quantity.value()), (id, 2));
    }

    #[test]
    fn add_problems_point_at_their_member() {
        let nil = Uuid::nil().to_string();
        let cases = [
            (
                json!({"quantity": 0}),
                product(&nil),
                (422, "invalid_value", "/data/attributes/quantity"),
            ),
            (
                json!({"quantity": 100}),
                product(&nil),
                (422, "invalid_value", "/data/attributes/quantity"),
            ),
            (
                json!({"quantity": "2"}),
                product(&nil),
                (400, "invalid_type", "/data/attributes/quantity"),
            ),
            (
                json!({"quantity": 1}),
                json!({}),
                (422, "required", "/data/relationships/product"),
            ),
            (
                json!({"quantity": 1, "unitPrice": "0.01"}),
                product(&nil),
                (403, "read_only_attribute", "/data/attributes/unitPrice"),
            ),
        ];
        for (attributes, relationships, (status, code, pointer)) in cases {
            let doc = json!({"data": {"type": "cart-items", "attributes": attributes,
                "relationships": relationships}});
            let error = add(doc.clone()).unwrap_err();
            assert_eq!(error.summary()[0], (status, code, pointer.into()), "{doc}");
        }
    }
}
