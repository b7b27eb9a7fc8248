{{ config(materialized='view') }}

with

checked as (

    select * from {{ ref('stg_exports__consent_events_checked') }}

),

final as (

    select
        source_line,
        event_id,
        customer_id,
        channel,
        consent_status,
        event_ts_utc,
        source_system

    from checked
    where disposition = 'accepted'

)

select * from final
