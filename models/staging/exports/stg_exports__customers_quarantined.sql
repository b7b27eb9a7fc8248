{{ config(materialized='ephemeral') }}

{{ quarantined_rows('customers') }}
