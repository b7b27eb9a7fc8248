-- What this build used: the as-of date and the rules' parameters (macro rule_parameters), one
-- row. The controls (tests/assert_*.sql) read them here, so a later `dbt test` checks the
-- tables as they were built, whatever day it runs and whatever its own vars say.
{%- set parameters = rule_parameters() %}

with

build_parameters as (

    select
        {{ as_of_date() }} as as_of_date,
        cast({{ parameters.recent_booking_days }} as integer) as recent_booking_days,
        cast(
            {{ dbt.dateadd('day', 1 - parameters.recent_booking_days, as_of_date()) }} as date
        ) as booking_window_start_date,
        cast('{{ counted_booking_statuses_text() }}' as {{ dbt.type_string() }})
            as counted_booking_statuses,
        cast({{ parameters.min_recent_bookings }} as integer) as min_recent_bookings,
        cast('{{ non_email_channels_text() }}' as {{ dbt.type_string() }}) as non_email_channels

),

final as (

    select * from build_parameters

)

select * from final
