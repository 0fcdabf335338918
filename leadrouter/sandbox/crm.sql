-- the sandbox CRM's tables, shaped like a CRM's objects
CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT, email TEXT, role TEXT, region TEXT, active INTEGER);
CREATE TABLE accounts (
    id TEXT PRIMARY KEY, name TEXT, website TEXT, domain TEXT UNIQUE, industry TEXT, employees INTEGER,
    annual_revenue REAL, country TEXT, state TEXT, city TEXT, owner_id TEXT REFERENCES users(id)
);
CREATE TABLE contacts (
    id TEXT PRIMARY KEY, account_id TEXT REFERENCES accounts(id), first_name TEXT, last_name TEXT, email TEXT,
    title TEXT, owner_id TEXT REFERENCES users(id)
);
CREATE INDEX contacts_email ON contacts (lower(email));
CREATE TABLE leads (
    id TEXT PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, phone TEXT, title TEXT, company TEXT,
    website TEXT, country TEXT, state TEXT, city TEXT, industry TEXT, employees INTEGER, annual_revenue REAL,
    lead_source TEXT, message TEXT, status TEXT NOT NULL DEFAULT 'New', owner_id TEXT, lead_tier TEXT,
    routing_reason TEXT, converted_opportunity_id TEXT, is_deleted INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, modified_at TEXT NOT NULL
);
CREATE INDEX leads_modified ON leads (modified_at, id);
CREATE INDEX leads_email ON leads (lower(email));
-- the generator's ground truth, kept apart from the CRM's fields
CREATE TABLE lead_labels (lead_id TEXT PRIMARY KEY, label_category TEXT, label_tier TEXT, label_kind TEXT);
CREATE TABLE activities (
    id INTEGER PRIMARY KEY, lead_id TEXT REFERENCES leads(id), owner_id TEXT, type TEXT, created_at TEXT
);
CREATE INDEX activities_lead ON activities (lead_id);
CREATE TABLE deals (
    id TEXT PRIMARY KEY, lead_id TEXT REFERENCES leads(id), account_id TEXT, stage TEXT, amount REAL,
    close_date TEXT, is_closed INTEGER NOT NULL DEFAULT 0, is_won INTEGER NOT NULL DEFAULT 0, created_at TEXT
);
-- every owner write, like a CRM's field history: the audit that shows no lead was assigned twice
CREATE TABLE owner_writes (id INTEGER PRIMARY KEY, lead_id TEXT, owner_id TEXT, written_at TEXT);
CREATE TABLE sandbox_state (key TEXT PRIMARY KEY, value TEXT);
-- added later (IF NOT EXISTS: an older sandbox gains them when opened)
-- every lead status a rep set, like a CRM's field history: "Rejected - Wrong Owner" is read as a rejection
CREATE TABLE IF NOT EXISTS status_changes (
    id INTEGER PRIMARY KEY, lead_id TEXT, status TEXT, changed_by TEXT, changed_at TEXT
);
CREATE INDEX IF NOT EXISTS status_changes_at ON status_changes (changed_at);
-- the traffic simulator's ground truth, kept apart from the CRM's fields: what each rep will do with each lead
-- it was given (answer in time, answer late, reject) and when
CREATE TABLE IF NOT EXISTS sim_fates (
    lead_id TEXT, owner_id TEXT, tier TEXT, seen_at TEXT, fate TEXT, act_at TEXT,
    done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (lead_id, owner_id)
);
-- custom field values, like a CRM's custom fields: one row per lead and field, the value as text
CREATE TABLE IF NOT EXISTS lead_fields (
    lead_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT, PRIMARY KEY (lead_id, name)
);
