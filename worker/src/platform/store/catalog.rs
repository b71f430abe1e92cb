//! The shop's catalog (`migrations/0008_catalog.sql`): what the merchant uploads, the only
//! source of item metadata in the model.

use super::models::MetaRow;
use super::{Count, Query, Stmt};

/// Removes the shop's catalog (the first statement of a replacement).
pub fn clear(shop: &str) -> Stmt {
    Stmt::named(
        "DELETE FROM catalog WHERE shop = :shop",
        &[("shop", shop.into())],
    )
}

/// Stores one product of the shop's catalog.
/// (`p.name` absent is stored as '', `in_stock` absent as in stock.)
pub fn insert(shop: &str, p: &MetaRow, now_ms: i64) -> Stmt {
    Stmt::named(
        "INSERT OR REPLACE INTO catalog (shop, product_id, name, price, category, brand, url, \
         image, in_stock, updated_at) VALUES (:shop, :id, :name, :price, :category, :brand, \
         :url, :image, :in_stock, :now)",
        &[
            ("shop", shop.into()),
            ("id", p.id.as_str().into()),
            ("name", p.name.clone().unwrap_or_default().into()),
            ("price", p.price.into()),
            ("category", p.category.clone().into()),
            ("brand", p.brand.clone().into()),
            ("url", p.url.clone().into()),
            ("image", p.image.clone().into()),
            ("in_stock", p.in_stock.is_none_or(|s| s != 0.0).into()),
            ("now", now_ms.into()),
        ],
    )
}

/// Every catalog product of a shop, as the model build reads item metadata.
pub fn meta(shop: &str) -> Query<MetaRow> {
    Query::named(
        "SELECT product_id AS id, name, price, category, brand, url, image, in_stock \
         FROM catalog WHERE shop = :shop ORDER BY product_id",
        &[("shop", shop.into())],
    )
}

/// 1 when the shop has a catalog, else 0.
pub fn any(shop: &str) -> Query<Count> {
    Query::named(
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM catalog WHERE shop = :shop LIMIT 1)",
        &[("shop", shop.into())],
    )
}
