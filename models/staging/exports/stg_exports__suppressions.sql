{{ config(materialized='view') }}

with

checked as (

    select * from {{ ref('stg_exports__suppressions_checked') }}

),

final as (

    select
        source_line,
        customer_id,
        email_normalized,
        suppression_reason,
        suppressed_from,
        suppressed_until,
        is_open_ended,
        has_unreadable_dates

    from checked
    where disposition = 'accepted'

)

select * from final
