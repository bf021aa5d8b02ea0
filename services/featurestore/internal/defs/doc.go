// Package defs reads, checks, compares and writes feature store
// definitions — entities, feature views and feature services — in the
// features.yaml format that `factoryctl features apply` sends in an
// ApplyRequest. It is pure: no I/O; existing state is reached through the
// [Lookup] the service implements.
//
// # Format
//
// One YAML document (at most [MaxDocumentSize] bytes). Unknown keys,
// duplicate keys, aliases and values of the wrong shape are errors naming
// their path, e.g. "feature_views[0].features[2].windw: unknown key".
//
//	domain: sales              # owning domain (optional; the request can give it)
//	entities:
//	  - name: customer
//	    description: A shopper.
//	    join_keys:             # one or more (composite keys); "- customer_id" is short for type string
//	      - {name: customer_id, type: string}
//	feature_views:
//	  - name: customer_orders
//	    description: What a customer ordered.
//	    entity: customer       # defined here or already applied
//	    source: {domain: sales, product: orders, port: v1}   # port optional
//	    timestamp_field: order_ts
//	    ttl: 30d               # 0 or absent = values never expire
//	    tags: [finance]
//	    features:
//	      - {name: spend_7d, type: double, field: unit_price, aggregation: sum, window: 7d}
//	      - {name: orders_7d, type: int64, aggregation: count, window: 7d}
//	      - {name: days_since_last_order, type: double, aggregation: days_since_last, window: 365d}
//	      - {name: last_channel, type: string, field: channel}
//	      - {name: late, type: int64, expression: "delivered_at > promised_at"}
//	feature_services:
//	  - name: churn_v1
//	    description: Inputs of the churn model.
//	    features: [customer_orders:spend_7d, customer_orders:orders_7d]
//
// Types: string, int64, double, bool, timestamp. Aggregations: count, sum,
// avg, min, max, last, distinct_count, days_since_last. Durations: an
// integer with d (days) or w (weeks), or a Go duration (90s, 15m, 24h,
// 1h30m, 500ms); 0 means zero. A feature without an aggregation reads
// field (a dotted path into the record, defaulting to the feature's name)
// or evaluates expression (see package features for its grammar).
//
// Parse reads the format into the API's messages; the per-definition
// domain, version and update_time are left for the service to set. Marshal
// writes them back (Parse(Marshal(d)) equals d).
//
// # Rules (Validate)
//
//   - Names of entities, views, services, join keys and features are
//     lowercase snake_case, ^[a-z][a-z0-9_]*$, at most 63 characters,
//     unique within their kind (join keys and features within their
//     entity or view). Domains, source products and ports are DNS labels,
//     ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$, at most 63 characters.
//   - An entity has at least one join key, each with a type; composite keys
//     are fine.
//   - A view names an entity defined in the document or known to Lookup,
//     a source domain and product, a timestamp_field, a ttl ≥ 0, and 1 to
//     [MaxFeaturesPerView] features.
//   - A feature has a type. An aggregated feature has a window in
//     (0, 366d]; a plain one has none. count → int64 and days_since_last →
//     double read no input (a field is allowed but not read; an expression
//     is an error: sum an expression to count matching events); sum, min,
//     max → int64 or double, avg → double, distinct_count → int64 and last →
//     any type need an explicit field or expression (an aggregated feature's
//     field does not default to its name). An expression gives 1/0, so its
//     feature (or last over it) is int64, double or bool. field and
//     expression are exclusive.
//   - A service lists 1 to [MaxRefsPerService] distinct "view:feature"
//     references to features that exist in the document or via Lookup.
//   - A document holds at most [MaxDefinitions] definitions in all.
//
// # Comparing
//
// [Equal] compares two definitions of the same kind ignoring the output
// fields domain, version and update_time (and treating an absent duration
// like 0, and a plain feature's field equal to its name like no field), so
// Apply can tell created, updated and unchanged apart; [Diff] lists the
// changes in words for ApplyResponse details.
package defs
