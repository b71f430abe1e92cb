//! A customer profile as a fold over events.
//!
//! [`Profile::apply`] is the only way a profile changes, in the page (from locally captured
//! events) and at the edge (in the customer's Durable Object, from every device): the same events
//! give the same profile. Everything a profile keeps is bounded, so a long-lived customer costs a
//! fixed amount of memory:
//!
//! | what | bound |
//! |---|---|
//! | recently viewed products | [`MAX_RECENT`] |
//! | orders kept in detail (totals count all) | [`MAX_ORDERS`] |
//! | past events for time-windowed rules | [`MAX_HISTORY`] |
//! | category / brand affinities | [`MAX_AFFINITIES`] each |
//! | recent searches | [`MAX_SEARCHES`] |

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::invalid;
use crate::event::{names, product_key, Event, Kind};
use crate::json::Value;
use crate::Error;

/// Recently viewed products kept, newest first.
pub const MAX_RECENT: usize = 24;
/// Orders kept in detail, newest last.
pub const MAX_ORDERS: usize = 100;
/// Past events kept for time-windowed rules, newest last.
pub const MAX_HISTORY: usize = 256;
/// Category and brand affinities kept (the weakest are dropped).
pub const MAX_AFFINITIES: usize = 32;
/// Recent search queries kept, newest first.
pub const MAX_SEARCHES: usize = 10;
/// Inactivity that starts a new session (30 minutes, the web analytics convention).
pub const SESSION_GAP_MS: i64 = 30 * 60 * 1000;
/// Half-life of category and brand affinities (14 days).
pub const AFFINITY_HALF_LIFE_MS: f64 = 14.0 * 86_400_000.0;

/// Event counts over the customer's lifetime.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    /// `page` calls.
    pub page_views: u32,
    /// Product Viewed.
    pub product_views: u32,
    /// Products Searched.
    pub searches: u32,
    /// Product Added.
    pub cart_adds: u32,
    /// Checkout Started.
    pub checkouts: u32,
    /// Distinct orders completed.
    pub orders: u32,
}

/// What the page knows about a product, taken from event properties.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Product {
    /// `product_id` (or `sku`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unit price in the shop's currency.
    pub price: Option<f64>,
    /// Category.
    pub category: Option<String>,
    /// Brand.
    pub brand: Option<String>,
    /// Product page URL.
    pub url: Option<String>,
    /// Image URL.
    pub image: Option<String>,
}

impl Product {
    /// Reads a product from Segment product properties (`product_id`, `name`, `price`,
    /// `category`, `brand`, `url`, `image_url`).
    pub fn from_properties(p: &Value) -> Option<Product> {
        let text = |k: &str| p.get_str(k).filter(|s| !s.is_empty()).map(str::to_string);
        Some(Product {
            id: product_key(p)?,
            name: text("name").unwrap_or_default(),
            price: p.get_f64("price"),
            category: text("category"),
            brand: text("brand"),
            url: text("url"),
            image: text("image_url"),
        })
    }

    /// The product as Segment product properties.
    pub fn to_properties(&self) -> Value {
        let mut v = Value::object();
        v.set("product_id", self.id.as_str().into());
        if !self.name.is_empty() {
            v.set("name", self.name.as_str().into());
        }
        for (k, val) in [
            ("category", &self.category),
            ("brand", &self.brand),
            ("url", &self.url),
            ("image_url", &self.image),
        ] {
            if let Some(s) = val {
                v.set(k, s.as_str().into());
            }
        }
        if let Some(price) = self.price {
            v.set("price", price.into());
        }
        v
    }
}

/// A recently viewed product.
#[derive(Debug, Clone, PartialEq)]
pub struct Viewed {
    /// The product.
    pub product: Product,
    /// When it was last viewed, Unix ms.
    pub at_ms: i64,
}

/// One line of the cart.
#[derive(Debug, Clone, PartialEq)]
pub struct CartLine {
    /// The product.
    pub product: Product,
    /// Units in the cart.
    pub quantity: u32,
}

/// A completed order.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// `order_id`.
    pub id: String,
    /// When it was placed, Unix ms.
    pub at_ms: i64,
    /// Revenue counted for it (`revenue`, else `total`, else the sum of its products).
    pub revenue: f64,
    /// Product ids in the order.
    pub items: Vec<String>,
}

/// A time-decayed interest in a category or brand.
#[derive(Debug, Clone, PartialEq)]
pub struct Affinity {
    /// The category or brand, as sent.
    pub key: String,
    /// Score at `at_ms`; it halves every [`AFFINITY_HALF_LIFE_MS`].
    pub score: f64,
    /// When `score` was last updated, Unix ms.
    pub at_ms: i64,
}

/// A past event, kept compactly for time-windowed rules.
#[derive(Debug, Clone, PartialEq)]
pub struct PastEvent {
    /// The event name (track calls only).
    pub name: String,
    /// When it happened, Unix ms.
    pub at_ms: i64,
    /// Product id, for product events.
    pub product_id: Option<String>,
    /// Category, for product events.
    pub category: Option<String>,
    /// Brand, for product events.
    pub brand: Option<String>,
    /// Money value: `price` for product events, revenue for orders.
    pub value: Option<f64>,
}

/// Recency, frequency and monetary value, the classic RFM inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rfm {
    /// Days since the last order (`None` if none yet).
    pub recency_days: Option<f64>,
    /// Number of orders.
    pub frequency: u32,
    /// Total spend.
    pub monetary: f64,
}

/// One customer's profile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// The id this profile is kept under (the user id when known, else the anonymous id).
    pub customer_id: String,
    /// Every anonymous id seen for this customer.
    pub anonymous_ids: Vec<String>,
    /// The shop's user id, once identified.
    pub user_id: Option<String>,
    /// Traits from `identify` calls, merged.
    pub traits: Value,
    /// First event, Unix ms (0 before any).
    pub first_seen_ms: i64,
    /// Latest event, Unix ms.
    pub last_seen_ms: i64,
    /// Sessions: runs of events with gaps under [`SESSION_GAP_MS`].
    pub sessions: u32,
    /// Lifetime event counts.
    pub counters: Counters,
    /// Revenue over all orders (refunds subtracted).
    pub total_spend: f64,
    /// Recently viewed products, newest first.
    pub recent: Vec<Viewed>,
    /// The cart as the events describe it.
    pub cart: Vec<CartLine>,
    /// Orders, oldest first (the newest [`MAX_ORDERS`]).
    pub orders: Vec<Order>,
    /// Category affinities, strongest first as of the last update.
    pub categories: Vec<Affinity>,
    /// Brand affinities, strongest first as of the last update.
    pub brands: Vec<Affinity>,
    /// Recent search queries, newest first.
    pub searches: Vec<String>,
    /// Past track events, oldest first (the newest [`MAX_HISTORY`]).
    pub history: Vec<PastEvent>,
    /// Consent changes the events stated, oldest first: the edge's fold records them with
    /// [`crate::consent::note`] (the page keeps the level itself, not its history).
    pub consent: Vec<crate::consent::Change>,
}

fn decay(score: f64, from_ms: i64, to_ms: i64) -> f64 {
    let dt = (to_ms - from_ms).max(0) as f64;
    score * (-(dt / AFFINITY_HALF_LIFE_MS) * core::f64::consts::LN_2).exp()
}

fn bump(list: &mut Vec<Affinity>, key: Option<&str>, weight: f64, at_ms: i64) {
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return;
    };
    match list.iter_mut().find(|a| a.key == key) {
        Some(a) => {
            let base_at = a.at_ms.max(at_ms);
            a.score = decay(a.score, a.at_ms, base_at) + decay(weight, at_ms, base_at);
            a.at_ms = base_at;
        }
        None => list.push(Affinity {
            key: key.to_string(),
            score: weight,
            at_ms,
        }),
    }
    let now = list.iter().map(|a| a.at_ms).max().unwrap_or(at_ms);
    crate::sort::sort_by(list, |a, b| {
        decay(b.score, b.at_ms, now)
            .total_cmp(&decay(a.score, a.at_ms, now))
            .then_with(|| a.key.cmp(&b.key))
    });
    list.truncate(MAX_AFFINITIES);
}

fn order_products(p: &Value) -> Vec<(Product, u32)> {
    let list = p.get("products").and_then(Value::as_array).unwrap_or(&[]);
    items(list, usize::MAX, &|item| {
        let product = Product::from_properties(item)?;
        let qty = item.get_f64("quantity").unwrap_or(1.0).max(1.0) as u32;
        Some((product, qty))
    })
}

impl Profile {
    /// An empty profile kept under `customer_id`.
    pub fn new(customer_id: &str) -> Profile {
        Profile {
            customer_id: customer_id.to_string(),
            traits: Value::object(),
            ..Profile::default()
        }
    }

    /// Folds one event into the profile. Orders count once per `order_id`, however often they
    /// arrive.
    pub fn apply(&mut self, event: &Event) {
        let at = event.timestamp_ms;
        if self.first_seen_ms == 0 || at < self.first_seen_ms {
            self.first_seen_ms = at;
        }
        if self.sessions == 0 || at - self.last_seen_ms > SESSION_GAP_MS {
            self.sessions += 1;
        }
        self.last_seen_ms = self.last_seen_ms.max(at);
        if let Some(anon) = &event.anonymous_id {
            if !self.anonymous_ids.contains(anon) {
                self.anonymous_ids.push(anon.clone());
            }
        }
        if let Some(user) = &event.user_id {
            self.user_id = Some(user.clone());
        }
        match event.kind {
            Kind::Page | Kind::Screen => self.counters.page_views += 1,
            Kind::Identify => {
                if let Some(traits) = event.traits.as_object() {
                    for (k, v) in traits {
                        self.traits.set(k, v.clone());
                    }
                }
            }
            Kind::Track => self.apply_track(event),
            Kind::Alias | Kind::Group => {}
        }
    }

    fn apply_track(&mut self, event: &Event) {
        let at = event.timestamp_ms;
        let name = event.name.as_deref().unwrap_or("");
        let p = &event.properties;
        let product = Product::from_properties(p);
        let mut past = PastEvent {
            name: name.to_string(),
            at_ms: at,
            product_id: product.as_ref().map(|x| x.id.clone()),
            category: product.as_ref().and_then(|x| x.category.clone()),
            brand: product.as_ref().and_then(|x| x.brand.clone()),
            value: product.as_ref().and_then(|x| x.price),
        };
        match name {
            names::PRODUCT_VIEWED => {
                self.counters.product_views += 1;
                if let Some(product) = product {
                    self.note_interest(&product, 1.0, at);
                    self.recent.retain(|v| v.product.id != product.id);
                    let at_index = self.recent.iter().position(|v| v.at_ms <= at);
                    let viewed = Viewed { product, at_ms: at };
                    self.recent
                        .insert(at_index.unwrap_or(self.recent.len()), viewed);
                    self.recent.truncate(MAX_RECENT);
                }
            }
            names::PRODUCT_ADDED => {
                self.counters.cart_adds += 1;
                if let Some(product) = product {
                    self.note_interest(&product, 3.0, at);
                    let qty = p.get_f64("quantity").unwrap_or(1.0).max(1.0) as u32;
                    match self.cart.iter_mut().find(|l| l.product.id == product.id) {
                        Some(line) => line.quantity += qty,
                        None => self.cart.push(CartLine {
                            product,
                            quantity: qty,
                        }),
                    }
                }
            }
            names::PRODUCT_REMOVED => {
                if let Some(product) = product {
                    let qty = p.get_f64("quantity").map(|q| q.max(0.0) as u32);
                    if let Some(line) = self.cart.iter_mut().find(|l| l.product.id == product.id) {
                        line.quantity = line.quantity.saturating_sub(qty.unwrap_or(u32::MAX));
                    }
                    self.cart.retain(|l| l.quantity > 0);
                }
            }
            names::PRODUCTS_SEARCHED => {
                self.counters.searches += 1;
                if let Some(q) = p.get_str("query").map(str::trim).filter(|q| !q.is_empty()) {
                    self.searches.retain(|s| s != q);
                    self.searches.insert(0, q.to_string());
                    self.searches.truncate(MAX_SEARCHES);
                }
            }
            names::CHECKOUT_STARTED => self.counters.checkouts += 1,
            names::ORDER_COMPLETED => {
                let id = crate::event::order_id(p).unwrap_or_default();
                if self.orders.iter().any(|o| o.id == id) {
                    return;
                }
                let lines = order_products(p);
                let revenue = p
                    .get_f64("revenue")
                    .or_else(|| p.get_f64("total"))
                    .unwrap_or_else(|| {
                        lines
                            .iter()
                            .map(|(pr, q)| pr.price.unwrap_or(0.0) * f64::from(*q))
                            .sum()
                    });
                for (product, _) in &lines {
                    self.note_interest(product, 5.0, at);
                }
                self.cart
                    .retain(|l| !lines.iter().any(|(pr, _)| pr.id == l.product.id));
                self.counters.orders += 1;
                self.total_spend += revenue;
                past.value = Some(revenue);
                self.orders.push(Order {
                    id,
                    at_ms: at,
                    revenue,
                    items: line_ids(lines),
                });
                crate::sort::sort_by_key(&mut self.orders, |o| o.at_ms);
                if self.orders.len() > MAX_ORDERS {
                    self.orders.remove(0);
                }
            }
            names::ORDER_REFUNDED => {
                let amount = p.get_f64("total").or_else(|| p.get_f64("revenue"));
                if let (Some(amount), Some(id)) = (amount, p.get_str("order_id")) {
                    if self.orders.iter().any(|o| o.id == id) {
                        self.total_spend = (self.total_spend - amount).max(0.0);
                    }
                }
            }
            _ => {}
        }
        let at_index = self
            .history
            .iter()
            .rposition(|e| e.at_ms <= at)
            .map_or(0, |i| i + 1);
        self.history.insert(at_index, past);
        if self.history.len() > MAX_HISTORY {
            self.history.remove(0);
        }
    }

    fn note_interest(&mut self, product: &Product, weight: f64, at: i64) {
        bump(
            &mut self.categories,
            product.category.as_deref(),
            weight,
            at,
        );
        bump(&mut self.brands, product.brand.as_deref(), weight, at);
    }

    /// The decayed affinity for category `key` at `now_ms` (0 if none).
    pub fn category_affinity(&self, key: &str, now_ms: i64) -> f64 {
        self.categories
            .iter()
            .find(|a| a.key.eq_ignore_ascii_case(key))
            .map_or(0.0, |a| decay(a.score, a.at_ms, now_ms))
    }

    /// The decayed affinity for brand `key` at `now_ms` (0 if none).
    pub fn brand_affinity(&self, key: &str, now_ms: i64) -> f64 {
        self.brands
            .iter()
            .find(|a| a.key.eq_ignore_ascii_case(key))
            .map_or(0.0, |a| decay(a.score, a.at_ms, now_ms))
    }

    /// The category with the strongest affinity at `now_ms`.
    pub fn top_category(&self, now_ms: i64) -> Option<&str> {
        self.categories
            .iter()
            .max_by(|a, b| {
                decay(a.score, a.at_ms, now_ms).total_cmp(&decay(b.score, b.at_ms, now_ms))
            })
            .map(|a| a.key.as_str())
    }

    /// Total value of the cart.
    pub fn cart_value(&self) -> f64 {
        self.cart
            .iter()
            .map(|l| l.product.price.unwrap_or(0.0) * f64::from(l.quantity))
            .sum()
    }

    /// True if the customer has ordered product `id` (among the detailed orders).
    pub fn has_purchased(&self, id: &str) -> bool {
        self.orders.iter().any(|o| o.items.iter().any(|i| i == id))
    }

    /// Recency, frequency and monetary value at `now_ms`.
    pub fn rfm(&self, now_ms: i64) -> Rfm {
        Rfm {
            recency_days: self
                .orders
                .last()
                .map(|o| (now_ms - o.at_ms).max(0) as f64 / 86_400_000.0),
            frequency: self.counters.orders,
            monetary: self.total_spend,
        }
    }

    /// The profile as JSON, for storage and for the edge's profile API.
    pub fn to_json(&self) -> Value {
        fn opt_str(v: &mut Value, k: &str, s: &Option<String>) {
            if let Some(s) = s {
                v.set(k, s.as_str().into());
            }
        }
        let product = |p: &Product| {
            let mut v = Value::object();
            v.set("id", p.id.as_str().into());
            v.set("name", p.name.as_str().into());
            if let Some(price) = p.price {
                v.set("price", price.into());
            }
            opt_str(&mut v, "category", &p.category);
            opt_str(&mut v, "brand", &p.brand);
            opt_str(&mut v, "url", &p.url);
            opt_str(&mut v, "image", &p.image);
            v
        };
        let affinities = |list: &[Affinity]| {
            array(list, &|a| {
                Value::Array(vec![
                    a.key.as_str().into(),
                    a.score.into(),
                    (a.at_ms as f64).into(),
                ])
            })
        };
        let strings = |list: &[String]| array(list, &|s| s.as_str().into());
        let c = &self.counters;
        let mut v = Value::object();
        v.set("customer_id", self.customer_id.as_str().into());
        v.set("anonymous_ids", strings(&self.anonymous_ids));
        opt_str(&mut v, "user_id", &self.user_id);
        v.set("traits", self.traits.clone());
        v.set("first_seen", (self.first_seen_ms as f64).into());
        v.set("last_seen", (self.last_seen_ms as f64).into());
        v.set("sessions", f64::from(self.sessions).into());
        let mut counters = Value::object();
        for (k, n) in [
            ("page_views", c.page_views),
            ("product_views", c.product_views),
            ("searches", c.searches),
            ("cart_adds", c.cart_adds),
            ("checkouts", c.checkouts),
            ("orders", c.orders),
        ] {
            counters.set(k, f64::from(n).into());
        }
        v.set("counters", counters);
        v.set("total_spend", self.total_spend.into());
        let recent = array(&self.recent, &|r| {
            let mut p = product(&r.product);
            p.set("at", (r.at_ms as f64).into());
            p
        });
        v.set("recent", recent);
        let cart = array(&self.cart, &|l| {
            let mut p = product(&l.product);
            p.set("quantity", f64::from(l.quantity).into());
            p
        });
        v.set("cart", cart);
        let orders = array(&self.orders, &|o| {
            let mut x = Value::object();
            x.set("id", o.id.as_str().into());
            x.set("at", (o.at_ms as f64).into());
            x.set("revenue", o.revenue.into());
            x.set("items", strings(&o.items));
            x
        });
        v.set("orders", orders);
        v.set("categories", affinities(&self.categories));
        v.set("brands", affinities(&self.brands));
        v.set("searches", strings(&self.searches));
        let history = array(&self.history, &|e| {
            let mut x = Value::object();
            x.set("name", e.name.as_str().into());
            x.set("at", (e.at_ms as f64).into());
            opt_str(&mut x, "product_id", &e.product_id);
            opt_str(&mut x, "category", &e.category);
            opt_str(&mut x, "brand", &e.brand);
            if let Some(value) = e.value {
                x.set("value", value.into());
            }
            x
        });
        v.set("history", history);
        // The edge keeps the history; the page's profile never has one (its level is stored on
        // its own), so the page build links none of this.
        #[cfg(not(all(feature = "browser", target_arch = "wasm32")))]
        v.set("consent", crate::consent::history_json(&self.consent));
        v
    }

    /// Reads a profile written by [`Profile::to_json`]. Unknown members are ignored and missing
    /// ones take their defaults, so stored profiles survive version changes.
    pub fn from_json(v: &Value) -> Result<Profile, Error> {
        let customer_id = v
            .get_str("customer_id")
            .ok_or_else(|| invalid!("pr1", "a stored profile needs `customer_id`"))?;
        let list = |k: &str| v.get(k).and_then(Value::as_array).unwrap_or(&[]);
        let strings = |k: &str| items(list(k), usize::MAX, &|s| s.as_str().map(str::to_string));
        let ms = |x: &Value, k: &str| x.get_f64(k).unwrap_or(0.0) as i64;
        let text = |x: &Value, k: &str| x.get_str(k).map(str::to_string);
        let product = |x: &Value| Product {
            id: text(x, "id").unwrap_or_default(),
            name: text(x, "name").unwrap_or_default(),
            price: x.get_f64("price"),
            category: text(x, "category"),
            brand: text(x, "brand"),
            url: text(x, "url"),
            image: text(x, "image"),
        };
        let affinities = |k: &str| {
            items(list(k), usize::MAX, &|a| {
                let a = a.as_array()?;
                Some(Affinity {
                    key: a.first()?.as_str()?.to_string(),
                    score: a.get(1)?.as_f64()?,
                    at_ms: a.get(2)?.as_f64()? as i64,
                })
            })
        };
        let counters = v.get("counters").cloned().unwrap_or_default();
        let count = |k: &str| counters.get_f64(k).unwrap_or(0.0) as u32;
        Ok(Profile {
            customer_id: customer_id.to_string(),
            anonymous_ids: strings("anonymous_ids"),
            user_id: text(v, "user_id"),
            traits: match v.get("traits") {
                Some(t @ Value::Object(_)) => t.clone(),
                _ => Value::object(),
            },
            first_seen_ms: ms(v, "first_seen"),
            last_seen_ms: ms(v, "last_seen"),
            sessions: v.get_f64("sessions").unwrap_or(0.0) as u32,
            counters: Counters {
                page_views: count("page_views"),
                product_views: count("product_views"),
                searches: count("searches"),
                cart_adds: count("cart_adds"),
                checkouts: count("checkouts"),
                orders: count("orders"),
            },
            total_spend: v.get_f64("total_spend").unwrap_or(0.0),
            recent: items(list("recent"), MAX_RECENT, &|x| {
                Some(Viewed {
                    product: product(x),
                    at_ms: ms(x, "at"),
                })
                .filter(|r| !r.product.id.is_empty())
            }),
            cart: items(list("cart"), usize::MAX, &|x| {
                Some(CartLine {
                    product: product(x),
                    quantity: x.get_f64("quantity").unwrap_or(1.0) as u32,
                })
                .filter(|l| !l.product.id.is_empty() && l.quantity > 0)
            }),
            orders: items(list("orders"), MAX_ORDERS, &|x| {
                Some(Order {
                    id: text(x, "id").unwrap_or_default(),
                    at_ms: ms(x, "at"),
                    revenue: x.get_f64("revenue").unwrap_or(0.0),
                    items: items(
                        x.get("items").and_then(Value::as_array).unwrap_or(&[]),
                        usize::MAX,
                        &|s| s.as_str().map(str::to_string),
                    ),
                })
            }),
            categories: affinities("categories"),
            brands: affinities("brands"),
            searches: strings("searches"),
            history: items(list("history"), MAX_HISTORY, &|x| {
                Some(PastEvent {
                    name: text(x, "name").unwrap_or_default(),
                    at_ms: ms(x, "at"),
                    product_id: text(x, "product_id"),
                    category: text(x, "category"),
                    brand: text(x, "brand"),
                    value: x.get_f64("value"),
                })
            }),
            #[cfg(not(all(feature = "browser", target_arch = "wasm32")))]
            consent: crate::consent::history_from_json(v.get("consent")),
            #[cfg(all(feature = "browser", target_arch = "wasm32"))]
            consent: Vec::new(),
        })
    }
}

/// A JSON array of `items`, each written by `f`: one plain loop for every list the profile
/// writes (an iterator chain per list is its own collect code in the page).
fn array<T>(items: &[T], f: &dyn Fn(&T) -> Value) -> Value {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(f(item));
    }
    Value::Array(out)
}

/// The ids of an order's lines, in order.
fn line_ids(lines: Vec<(Product, u32)>) -> Vec<String> {
    let mut out = Vec::with_capacity(lines.len());
    for (product, _) in lines {
        out.push(product.id);
    }
    out
}

/// The first `max` of `list` that `f` reads (what it cannot read is skipped): the reading side
/// of [`array`].
fn items<T>(list: &[Value], max: usize, f: &dyn Fn(&Value) -> Option<T>) -> Vec<T> {
    let mut out = Vec::new();
    for x in list {
        if out.len() == max {
            break;
        }
        out.extend(f(x));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    const T0: i64 = 1_790_000_000_000;

    fn track(name: &str, at: i64, props: &str) -> Event {
        let mut e = Event::track(name, "anon-1", &format!("m{at}"), at);
        e.properties = parse(props).unwrap();
        e
    }

    fn view(id: &str, cat: &str, at: i64) -> Event {
        track(
            names::PRODUCT_VIEWED,
            at,
            &format!(r#"{{"product_id":"{id}","name":"N {id}","price":10,"category":"{cat}"}}"#),
        )
    }

    #[test]
    fn views_fill_recent_newest_first_without_duplicates() {
        let mut p = Profile::new("anon-1");
        for (i, id) in ["a", "b", "a", "c"].iter().enumerate() {
            p.apply(&view(id, "Shoes", T0 + i as i64 * 1000));
        }
        let ids: Vec<_> = p.recent.iter().map(|r| r.product.id.as_str()).collect();
        assert_eq!(ids, ["c", "a", "b"]);
        assert_eq!(p.counters.product_views, 4);
        assert_eq!(p.history.len(), 4);
    }

    #[test]
    fn cart_and_orders() {
        let mut p = Profile::new("anon-1");
        p.apply(&track(
            names::PRODUCT_ADDED,
            T0,
            r#"{"product_id":"a","price":20,"quantity":2,"category":"Tents"}"#,
        ));
        p.apply(&track(
            names::PRODUCT_ADDED,
            T0 + 1,
            r#"{"product_id":"b","price":5}"#,
        ));
        assert_eq!(p.cart_value(), 45.0);
        p.apply(&track(
            names::PRODUCT_REMOVED,
            T0 + 2,
            r#"{"product_id":"b"}"#,
        ));
        assert_eq!(p.cart.len(), 1);
        let order = track(
            names::ORDER_COMPLETED,
            T0 + 3,
            r#"{"order_id":"o1","total":"40.00","products":[{"product_id":"a","price":20,"quantity":2}]}"#,
        );
        p.apply(&order);
        p.apply(&order); // delivered twice: counted once
        assert_eq!(p.counters.orders, 1);
        assert_eq!(p.total_spend, 40.0);
        assert!(p.cart.is_empty());
        assert!(p.has_purchased("a"));
        assert_eq!(p.rfm(T0 + 3 + 86_400_000).recency_days, Some(1.0));
    }

    #[test]
    fn affinities_decay_and_rank() {
        let mut p = Profile::new("anon-1");
        p.apply(&view("a", "Shoes", T0));
        p.apply(&view("b", "Tents", T0 + 14 * 86_400_000));
        let now = T0 + 14 * 86_400_000;
        assert!((p.category_affinity("shoes", now) - 0.5).abs() < 1e-9);
        assert_eq!(p.top_category(now), Some("Tents"));
    }

    #[test]
    fn sessions_split_on_gaps() {
        let mut p = Profile::new("anon-1");
        p.apply(&view("a", "x", T0));
        p.apply(&view("b", "x", T0 + 60_000));
        p.apply(&view("c", "x", T0 + 60_000 + SESSION_GAP_MS + 1));
        assert_eq!(p.sessions, 2);
    }

    #[test]
    fn json_round_trip() {
        let mut p = Profile::new("anon-1");
        p.apply(&view("a", "Shoes", T0));
        p.apply(&track(
            names::PRODUCTS_SEARCHED,
            T0 + 5,
            r#"{"query":"boots"}"#,
        ));
        p.apply(&track(
            names::ORDER_COMPLETED,
            T0 + 9,
            r#"{"order_id":"o1","revenue":12.5,"products":[{"product_id":"a"}]}"#,
        ));
        let text = p.to_json().to_json();
        let back = Profile::from_json(&parse(&text).unwrap()).unwrap();
        assert_eq!(back, p);
        assert!(Profile::from_json(&parse("{}").unwrap()).is_err());
    }

    #[test]
    fn history_is_bounded_and_ordered() {
        let mut p = Profile::new("anon-1");
        for i in (0..MAX_HISTORY as i64 + 50).rev() {
            p.apply(&view("a", "x", T0 + i * 1000));
        }
        assert_eq!(p.history.len(), MAX_HISTORY);
        assert!(p.history.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    }
}
