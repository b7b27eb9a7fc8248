{{ quarantined_rows('suppressions') }}
