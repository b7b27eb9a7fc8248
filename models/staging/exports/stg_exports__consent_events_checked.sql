with

source_rows as (

    select * from {{ ref('base_exports__consent_events') }}

),

cleaned as {{ materialized_cte() }} (

    select
        source_line,
        structural_error,
        {{ clean_text('salvaged_customer_id') }} as salvaged_customer_id_text,
        {{ clean_text('salvaged_customer_id_from_end') }} as salvaged_customer_id_from_end_text,
        {{ clean_text('salvaged_customer_id_uncut') }} as salvaged_customer_id_uncut_text,
        {{ clean_field('event_id') }} as event_id,
        {{ clean_field('customer_id') }} as customer_id_text,
        {{ clean_field('channel') }} as channel_text,
        {{ clean_field('consent_status') }} as consent_status_text,
        {{ clean_field('event_ts') }} as event_ts_text,
        {{ clean_field('source_system') }} as source_system

    from source_rows

),

parsed as {{ inlined_cte() }} (

    select
        *,
        {{ id_or_id_in_digits('salvaged_customer_id_text') }} as salvaged_customer_id,
        {{ id_or_id_in_digits('salvaged_customer_id_from_end_text') }} as salvaged_customer_id_from_end,
        {{ id_in_uncut_text('salvaged_customer_id_uncut_text') }} as salvaged_customer_id_uncut,
        {{ parse_id('customer_id_text') }} as customer_id,
        nullif({{ without_separators('lower(channel_text)') }}, '') as channel,
        upper(consent_status_text) as consent_status,
        {{ parse_timestamp_utc('event_ts_text') }} as event_ts_utc,
        {{ row_fingerprint([
            'event_id', 'customer_id_text', 'channel_text', 'consent_status_text',
            'event_ts_text', 'source_system',
        ]) }} as row_fingerprint

    from cleaned

),

{{ identical_rows_ctes('parsed', [
    'event_id', 'customer_id_text', 'channel_text', 'consent_status_text',
    'event_ts_text', 'source_system',
], 'duplicates_marked') }},

validated as (

    select
        *,
        case
            when duplicate_of_line is not null then null
            when structural_error is not null then structural_error
            when customer_id is null then coalesce({{ header_line_reason('consent_events', {
                'event_id': 'event_id', 'customer_id': 'customer_id_text', 'channel': 'channel_text',
                'consent_status': 'consent_status_text', 'event_ts': 'event_ts_text',
                'source_system': 'source_system',
            }) }}, 'invalid customer_id')
            when event_ts_utc is null then 'invalid event_ts'
        end as rejection_reason

    from duplicates_marked

),

final as (

    select
        source_line,
        event_id,
        customer_id,
        channel,
        consent_status,
        event_ts_utc,
        source_system,
        duplicate_of_line,
        rejection_reason,
        salvaged_customer_id,
        salvaged_customer_id_from_end,
        salvaged_customer_id_uncut,
        {{ id_in_digits('customer_id_text', 'customer_id') }} as customer_id_in_digits,
        {{ id_in_event_id('event_id', 'customer_id_text', 'customer_id') }} as customer_id_in_event_id,
        {{ row_id_before_zero_decimals() }} as customer_id_before_zero_decimals,
        {{ row_id_before_zero_decimals_from_end() }} as customer_id_before_zero_decimals_from_end,
        {{ row_disposition() }} as disposition

    from validated

)

select * from final
