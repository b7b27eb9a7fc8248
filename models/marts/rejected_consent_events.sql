{{ quarantined_rows('consent_events') }}
