{{ config(materialized='ephemeral') }}

{{ quarantined_rows('bookings') }}
