"""The review console: server-rendered pages (Jinja2, autoescaped), login with Argon2 passwords,
server-side sessions, a CSRF token on every form, a strict Content-Security-Policy, and every
view and action in the audit log."""
