{#-
    One row per input file with the number of raw data lines, counted where the rows enter
    the project: by the pre-step as it read the landing file, or from the loaded seed.
-#}
with

{% if var('raw_input') == 'landing' %}

manifest as (

    select * from {{ source('landing', 'input_files') }}

),

final as (

    select
        input_file,
        file_path,
        byte_count,
        sha256,
        cast(data_lines as {{ dbt.type_bigint() }}) as raw_rows,
        extra_columns

    from manifest

)

{% else %}

{%- for input_file in var('input_files') %}

{{ input_file }}_seed as (

    select
        '{{ input_file }}' as input_file,
        cast(count(*) as {{ dbt.type_bigint() }}) as raw_rows

    from {{ ref(input_file) }}

),
{% endfor %}

final as (

    {%- for input_file in var('input_files') %}
    select
        input_file,
        cast('seeds/{{ input_file }}.csv' as {{ dbt.type_string() }}) as file_path,
        cast(null as {{ dbt.type_bigint() }}) as byte_count,
        cast(null as {{ dbt.type_string() }}) as sha256,
        raw_rows,
        cast(null as {{ dbt.type_string() }}) as extra_columns
    from {{ input_file }}_seed
    {{ "union all" if not loop.last }}
    {%- endfor %}

)

{% endif %}

select * from final
