-- Rejected and duplicate rows per input file and reason. A new reason, or a reason that
-- suddenly counts thousands, usually means the export itself changed format.
with

rejected as (

    select
        'customers' as input_file,
        disposition,
        reason
    from {{ ref('rejected_customers') }}
    union all
    select
        'bookings' as input_file,
        disposition,
        reason
    from {{ ref('rejected_bookings') }}
    union all
    select
        'consent_events' as input_file,
        disposition,
        reason
    from {{ ref('rejected_consent_events') }}
    union all
    select
        'suppressions' as input_file,
        disposition,
        reason
    from {{ ref('rejected_suppressions') }}

),

final as (

    select
        input_file,
        disposition,
        case when disposition = 'duplicate' then 'duplicate' else reason end as reason,
        count(*) as row_count

    from rejected
    group by input_file, disposition, case when disposition = 'duplicate' then 'duplicate' else reason end

)

select * from final
order by input_file asc, row_count desc
