//! Trackfinity's customer records and their deterministic seed.
//!
//! Every text field is a string; a cleared field (`REMOVE`, `forget`) is the
//! empty string. The password is kept only as a keyed hash and never leaves the
//! sandbox.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::sandbox::store::{Keyed, Table};
use crate::sandbox::token::{siphash24, splitmix};

/// The settable fields of `set_customer_details`, in the vendor's order; also
/// the names `forget`'s `keep` may list.
pub(crate) const FIELDS: [&str; 16] = [
    "firstname",
    "lastname",
    "email",
    "username",
    "password",
    "address1",
    "address2",
    "city",
    "state",
    "country",
    "zip",
    "custom1",
    "custom2",
    "custom3",
    "custom4",
    "custom5",
];

/// The whole Trackfinity store: what the state file keeps under `"trackfinity"`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct TfState {
    pub(crate) customers: Table<TfCustomer>,
}

/// One customer. `orderids` and `subscription_id` are lookups only: no call
/// changes them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TfCustomer {
    pub(crate) customer_id: u64,
    pub(crate) subscription_id: String,
    pub(crate) orderids: Vec<String>,
    pub(crate) firstname: String,
    pub(crate) lastname: String,
    pub(crate) email: String,
    pub(crate) username: String,
    /// Keyed hash of the password; `None` once forgotten.
    pub(crate) password_hash: Option<String>,
    pub(crate) password_changes: u32,
    pub(crate) address1: String,
    pub(crate) address2: String,
    pub(crate) city: String,
    pub(crate) state: String,
    pub(crate) country: String,
    pub(crate) zip: String,
    pub(crate) custom1: String,
    pub(crate) custom2: String,
    pub(crate) custom3: String,
    pub(crate) custom4: String,
    pub(crate) custom5: String,
    pub(crate) locked: bool,
}

impl Keyed for TfCustomer {
    fn key(&self) -> u64 {
        self.customer_id
    }
}

impl TfCustomer {
    /// The text field called `name`; `None` for `password` and unknown names.
    pub(crate) fn text_mut(&mut self, name: &str) -> Option<&mut String> {
        Some(match name {
            "firstname" => &mut self.firstname,
            "lastname" => &mut self.lastname,
            "email" => &mut self.email,
            "username" => &mut self.username,
            "address1" => &mut self.address1,
            "address2" => &mut self.address2,
            "city" => &mut self.city,
            "state" => &mut self.state,
            "country" => &mut self.country,
            "zip" => &mut self.zip,
            "custom1" => &mut self.custom1,
            "custom2" => &mut self.custom2,
            "custom3" => &mut self.custom3,
            "custom4" => &mut self.custom4,
            "custom5" => &mut self.custom5,
            _ => return None,
        })
    }

    /// Stores a new password (as a hash) and counts the change.
    pub(crate) fn set_password(&mut self, password: &str) {
        self.password_hash = Some(hash_password(self.customer_id, password));
        self.password_changes = self.password_changes.saturating_add(1);
    }

    /// What the test hook shows: everything but the password hash.
    pub(crate) fn inspect(&self) -> Value {
        json!({
            "customer_id": self.customer_id,
            "subscription_id": self.subscription_id,
            "orderids": self.orderids,
            "firstname": self.firstname,
            "lastname": self.lastname,
            "email": self.email,
            "username": self.username,
            "address1": self.address1,
            "address2": self.address2,
            "city": self.city,
            "state": self.state,
            "country": self.country,
            "zip": self.zip,
            "custom1": self.custom1,
            "custom2": self.custom2,
            "custom3": self.custom3,
            "custom4": self.custom4,
            "custom5": self.custom5,
            "locked": self.locked,
            "password_set": self.password_hash.is_some(),
            "password_changes": self.password_changes,
        })
    }
}

/// A salted, keyed hash: enough for a fake that must never store or echo the
/// password itself.
fn hash_password(customer_id: u64, password: &str) -> String {
    let hash = siphash24(
        splitmix(customer_id ^ 0x7472_6163_6b66),
        0x7061_7373_776f_7264,
        password.as_bytes(),
    );
    format!("siphash24${hash:016x}")
}

impl TfState {
    /// The customer a lookup parameter names, if any.
    pub(crate) fn find(&self, key: Lookup, value: &str) -> Option<u64> {
        match key {
            Lookup::Customer => value
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|id| self.customers.0.contains_key(id)),
            Lookup::Subscription => self
                .customers
                .0
                .values()
                .find(|c| c.subscription_id == value)
                .map(|c| c.customer_id),
            Lookup::Order => self
                .customers
                .0
                .values()
                .find(|c| c.orderids.iter().any(|o| o == value))
                .map(|c| c.customer_id),
        }
    }

    /// `{"customers": N, "locked": K}` for the stats.
    pub(crate) fn stats(&self) -> Value {
        let locked = self.customers.0.values().filter(|c| c.locked).count();
        json!({ "records": { "customers": self.customers.0.len(), "locked": locked } })
    }
}

/// The parameters that can name a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// `customer_id`
    Customer,
    /// `subscription_id`
    Subscription,
    /// `orderid`
    Order,
}

impl Lookup {
    pub(crate) fn param(self) -> &'static str {
        match self {
            Lookup::Customer => "customer_id",
            Lookup::Subscription => "subscription_id",
            Lookup::Order => "orderid",
        }
    }
}

// --------------------------------------------------------------------- seed

const FIRST_NAMES: [&str; 16] = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
];
const LAST_NAMES: [&str; 16] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
];
const STREETS: [&str; 10] = [
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Pine St",
    "Elm St",
    "Washington Blvd",
    "Lake Rd",
    "Hillcrest Dr",
    "Park Ave",
];
/// City, state, zip.
const CITIES: [(&str, &str, &str); 10] = [
    ("Austin", "TX", "78701"),
    ("Denver", "CO", "80202"),
    ("Portland", "OR", "97205"),
    ("Columbus", "OH", "43215"),
    ("Raleigh", "NC", "27601"),
    ("Madison", "WI", "53703"),
    ("Boise", "ID", "83702"),
    ("Tampa", "FL", "33602"),
    ("Tucson", "AZ", "85701"),
    ("Omaha", "NE", "68102"),
];
const PLANS: [&str; 3] = ["basic", "pro", "enterprise"];

fn pick<'a, T>(rng: &mut fastrand::Rng, items: &'a [T]) -> &'a T {
    // The constant lists above are never empty.
    &items[rng.usize(..items.len())]
}

/// `count` customers with ids 1..=count, the same for the same seed.
pub(crate) fn seed(seed: u64, count: usize) -> TfState {
    let mut rng = fastrand::Rng::with_seed(splitmix(seed ^ 0x7472_6163_6b66_696e));
    let mut next_order = 100_001_u64;
    let customers = (1..=count as u64)
        .map(|id| {
            let first = *pick(&mut rng, &FIRST_NAMES);
            let last = *pick(&mut rng, &LAST_NAMES);
            let (city, state, zip) = *pick(&mut rng, &CITIES);
            let orders = 1 + rng.usize(..2);
            let orderids = (0..orders)
                .map(|_| {
                    let order = format!("ORD-{next_order}");
                    next_order += 1;
                    order
                })
                .collect();
            let login = format!("{}.{}{id}", first.to_lowercase(), last.to_lowercase());
            let mut customer = TfCustomer {
                customer_id: id,
                subscription_id: format!("SUB-{id:06}"),
                orderids,
                firstname: first.to_owned(),
                lastname: last.to_owned(),
                email: format!("{login}@example.com"),
                username: login,
                password_hash: None,
                password_changes: 0,
                address1: format!("{} {}", rng.u32(1..9999), pick(&mut rng, &STREETS)),
                address2: if rng.u8(..4) == 0 {
                    format!("Apt {}", rng.u32(1..40))
                } else {
                    String::new()
                },
                city: city.to_owned(),
                state: state.to_owned(),
                country: "US".to_owned(),
                zip: zip.to_owned(),
                custom1: (*pick(&mut rng, &PLANS)).to_owned(),
                custom2: String::new(),
                custom3: String::new(),
                custom4: String::new(),
                custom5: String::new(),
                locked: false,
            };
            customer.password_hash = Some(hash_password(id, &format!("seed-{:x}", rng.u64(..))));
            (id, customer)
        })
        .collect();
    TfState {
        customers: Table(customers),
    }
}
