{#-
    Generic test: no two rows share the same values in `combination_of_columns`
    (the grain of a model stated as a test).

        data_tests:
          - unique_combination_of_columns:
              arguments:
                combination_of_columns: [input_file, source_line]
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as rows_with_these_values
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
