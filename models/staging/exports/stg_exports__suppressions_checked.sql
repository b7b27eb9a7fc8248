with

source_rows as (

    {{ raw_rows('suppressions') }}

),

parsed as (

    select
        source_line,
        structural_error,
        raw_line,
        customer_id as raw_customer_id,
        email as raw_email,
        suppression_reason as raw_suppression_reason,
        suppressed_from as raw_suppressed_from,
        suppressed_until as raw_suppressed_until,
        {{ parse_id('customer_id') }} as customer_id,
        {{ normalize_text('email') }} as email_normalized,
        {{ clean_text('suppression_reason') }} as suppression_reason,
        {{ parse_date('suppressed_from') }} as suppressed_from,
        {{ parse_date('suppressed_until') }} as suppressed_until,
        {{ clean_text('suppressed_until') }} is null as is_open_ended,
        (
            {{ parse_date('suppressed_from') }} is null
            or ({{ clean_text('suppressed_until') }} is not null and {{ parse_date('suppressed_until') }} is null)
        ) as has_unreadable_dates

    from source_rows

),

duplicates_marked as (

    {{ mark_identical_rows('parsed', [
        'raw_customer_id', 'raw_email', 'raw_suppression_reason',
        'raw_suppressed_from', 'raw_suppressed_until',
    ]) }}

),

validated as (

    select
        *,
        case
            when duplicate_of_line is not null then null
            when structural_error is not null then structural_error
            when customer_id is null and email_normalized is null then 'no valid customer_id or email'
        end as rejection_reason

    from duplicates_marked

),

final as (

    select
        *,
        {{ row_disposition() }} as disposition

    from validated

)

select * from final
