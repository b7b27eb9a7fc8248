{{ config(materialized=raw_rows_materialization()) }}

with

source_rows as (

    {{ raw_rows('bookings') }}

),

final as (

    select * from source_rows

)

select * from final
