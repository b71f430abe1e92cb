// Types for the Affinity page API: `window.affinity` (set by the loader) and the ESM entry.

/** What the loader puts on `window.affinity`. Calls made before the Wasm loads are queued. */
export interface AffinityApi {
  /** Records a custom event, e.g. `track("Newsletter Subscribed", { list: "weekly" })`. */
  track(event: string, properties?: Record<string, unknown>): void;
  /** Records a page view of the current URL (History API navigations are captured already). */
  page(): void;
  /** Tells Affinity who the shopper is. */
  identify(userId: string, traits?: Record<string, unknown>): void;
  /** Forgets the shopper on this device: new anonymous id, empty profile, nothing queued. */
  reset(): void;
  /**
   * Sets the shopper's consent (a level, or Segment-style categories such as
   * `{ Analytics: true, Advertising: false }`) and returns the level in force; without an
   * argument only reads it. `undefined` before the module has loaded, and while the shop's
   * policy is not known yet on a first visit. See docs/consent.md.
   */
  consent(choice?: ConsentLevel | Record<string, boolean>): ConsentLevel | undefined;
  /** What this device knows about the shopper (available once loaded). */
  profile?(): ShopperProfile;
}

/** What Affinity may do: store on the device (`device`), send pseudonymous events
 * (`analytics`), send identified events (`marketing`); `none` keeps only the level itself. */
export type ConsentLevel = "none" | "device" | "analytics" | "marketing";

/** The local profile, as `affinity.profile()` returns it. */
export interface ShopperProfile {
  customer_id: string;
  anonymous_ids: string[];
  user_id?: string;
  traits: Record<string, unknown>;
  first_seen: number;
  last_seen: number;
  sessions: number;
  counters: {
    page_views: number; product_views: number; searches: number;
    cart_adds: number; checkouts: number; orders: number;
  };
  total_spend: number;
  recent: Array<{ id: string; name: string; price?: number; category?: string; url?: string; image?: string; at: number }>;
  cart: Array<{ id: string; name: string; price?: number; quantity: number }>;
  orders: Array<{ id: string; at: number; revenue: number; items: string[] }>;
  searches: string[];
}

declare global {
  interface Window {
    affinity: AffinityApi;
  }
}

/** ESM entry (bundlers): initialise the Wasm module, then call `start`. */
export default function init(input?: { module_or_path?: string | URL | Response | BufferSource }): Promise<unknown>;
/** Starts capture and rendering for the shop with write key `key`, sending to `edge`; `choice`
 * is a consent choice made before start (a level, or categories as JSON text; `""` for none). */
export function start(key: string, edge: string, choice: string): void;
/** Sets (`choice` a level or categories as JSON text; `""` reads) and returns the consent level
 * in force (`""` while unknown); `source` names who chose (`api`, `tcf`, `gcm`, `shopify`). */
export function consent(choice: string, source: string): string;
export function track(event: string, propertiesJson: string): void;
export function page(): void;
export function identify(userId: string, traitsJson: string): void;
export function reset(): void;
/** The local profile as JSON text. */
export function profile(): string;
