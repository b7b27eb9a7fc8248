{{ config(materialized='ephemeral') }}

{{ quarantined_rows('consent_events') }}
