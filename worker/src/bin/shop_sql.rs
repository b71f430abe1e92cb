//! Prints the SQL that creates (or updates) a shop with its default segments, for
//! `wrangler d1 execute affinity --file …`: how `make demo` and the end-to-end set-up create the
//! demo shop before the Worker serves (no request creates a shop).
//!
//! `shop-sql <id> <name> <write key> <admin secret>`; the secret is stored only as its salted hash.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use affinity_worker::platform::auth;
    use affinity_worker::platform::store::shops::{self, Shop};
    use affinity_worker::segments;

    let args: Vec<String> = std::env::args().skip(1).collect();
    let [id, name, key, secret] = args.as_slice() else {
        eprintln!("usage: shop-sql <id> <name> <write key> <admin secret>");
        std::process::exit(2);
    };
    if !auth::valid_shop_id(id) || key.is_empty() || secret.is_empty() {
        eprintln!("shop-sql: invalid shop id, or an empty write key or secret");
        std::process::exit(2);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let shop = Shop {
        id: id.clone(),
        name: name.clone(),
        write_key: key.clone(),
        admin_hash: auth::admin_hash(id, secret),
    };
    println!("{}", shops::upsert(&shop, now).to_script());
    for stmt in segments::default_stmts(id, now) {
        println!("{}", stmt.to_script());
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}
