/*
 * Editor of the data source's template variables: EPCI, communes of an EPCI, axes, indicators of an axis.
 */
import React from 'react';

import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, Input, Select } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { FneOptions, FneQuery, FneVariableQuery, VariableKind } from '../types';

type Props = QueryEditorProps<DataSource, FneQuery, FneOptions, FneVariableQuery>;

export const VARIABLE_KIND_OPTIONS: Array<SelectableValue<VariableKind>> = [
  { value: 'epci', label: 'EPCI', description: 'Les EPCI du territoire de la source' },
  { value: 'communes', label: 'Communes d’un EPCI', description: 'Les communes de l’EPCI indiqué' },
  { value: 'axes', label: 'Axes', description: 'Les axes de la feuille de route' },
  { value: 'indicators', label: 'Indicateurs', description: 'Les indicateurs du catalogue, d’un axe ou de tous' },
];

const PARENT_FIELD: Partial<Record<VariableKind, { label: string; placeholder: string; tooltip: string }>> = {
  communes: {
    label: 'EPCI',
    placeholder: 'epci:200040566 ou $epci',
    tooltip: 'EPCI dont les communes sont listées ; vide : toutes les communes du territoire de la source',
  },
  indicators: {
    label: 'Axe',
    placeholder: '1, 2, 3 ou $axe',
    tooltip: 'Numéro de l’axe ; vide ou 0 : tous les indicateurs',
  },
};

export function VariableQueryEditor({ query, onChange }: Props) {
  const kind: VariableKind | undefined = query?.kind;
  const parentField = kind ? PARENT_FIELD[kind] : undefined;

  const onKindChange = (value: SelectableValue<VariableKind>) => {
    if (!value.value) {
      return;
    }
    // A parent only means something for communes and indicators, and not the same thing for each.
    onChange({ ...query, kind: value.value, parent: undefined });
  };

  const onParentBlur = (event: React.FocusEvent<HTMLInputElement>) => {
    if (!kind) {
      return;
    }
    const parent = event.currentTarget.value.trim();
    onChange({ ...query, kind, parent: parent === '' ? undefined : parent });
  };

  return (
    <InlineFieldRow>
      <InlineField label="Valeurs" labelWidth={16} tooltip="Ce que la variable liste">
        <Select
          inputId="fne-variable-kind"
          aria-label="Valeurs"
          placeholder="Choisir"
          options={VARIABLE_KIND_OPTIONS}
          value={kind ?? null}
          onChange={onKindChange}
          width={32}
        />
      </InlineField>
      {parentField && (
        <InlineField label={parentField.label} labelWidth={10} tooltip={parentField.tooltip}>
          <Input
            id="fne-variable-parent"
            aria-label={parentField.label}
            placeholder={parentField.placeholder}
            defaultValue={query.parent ?? ''}
            key={kind}
            onBlur={onParentBlur}
            width={32}
          />
        </InlineField>
      )}
    </InlineFieldRow>
  );
}
