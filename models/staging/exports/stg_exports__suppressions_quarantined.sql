{{ config(materialized='ephemeral') }}

{{ quarantined_rows('suppressions') }}
