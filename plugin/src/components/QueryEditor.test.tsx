import React from 'react';

import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';

import type { DataSource } from '../datasource';
import { CatalogueEntry, FneQuery, TextValue } from '../types';
import { QueryEditor } from './QueryEditor';

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getTemplateSrv: () => ({ getVariables: () => [{ name: 'epci' }] }),
}));

const CATALOGUE: CatalogueEntry[] = [
  entry('a1.conseillers_actifs', 1, '1.1', 'Conseillers numériques en activité'),
  entry('a2.accompagnements', 2, '2.x', 'Accompagnements réalisés'),
  entry('a3.consultations', 3, '3.1', 'Consultations de la cartographie'),
];

function entry(id: string, axis: number, action: string, label: string): CatalogueEntry {
  return { id, axis, action, label, definition: '', unit: 'nombre', levels: ['dep'], target: null, direction: 'hausse' };
}

const TERRITORIES: Record<string, TextValue[]> = {
  '': [
    { text: 'Rhône', value: 'dep:69' },
    { text: 'CC de la Vallée du Garon', value: 'epci:200040566' },
  ],
  commune: [{ text: 'Brignais', value: 'com:69027' }],
};

/** Renders the editor and lets the resource promises settle (inside act, as React wants). */
async function setup(query: FneQuery) {
  const datasource = {
    getCatalogue: jest.fn().mockResolvedValue(CATALOGUE),
    getTerritories: jest.fn((level?: string) => Promise.resolve(TERRITORIES[level ?? ''])),
  } as unknown as DataSource;
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  await act(async () => {
    render(<QueryEditor query={query} onChange={onChange} onRunQuery={onRunQuery} datasource={datasource} />);
  });
  return { datasource, onChange, onRunQuery };
}

/** Opens a @grafana/ui Select (react-select) by its input id and clicks an option by its text. */
async function choose(inputId: string, optionText: string) {
  const input = document.getElementById(inputId) as HTMLInputElement;
  expect(input).not.toBeNull();
  fireEvent.keyDown(input, { key: 'ArrowDown' });
  const option = await screen.findByText(optionText);
  await act(async () => {
    fireEvent.click(option);
  });
}

/** Types free text into a creatable Select and validates it with Enter. */
async function typeCustom(inputId: string, text: string) {
  const input = document.getElementById(inputId) as HTMLInputElement;
  fireEvent.change(input, { target: { value: text } });
  await screen.findByText(`Utiliser « ${text} »`);
  await act(async () => {
    fireEvent.keyDown(input, { key: 'Enter' });
  });
}

describe('QueryEditor', () => {
  it('shows the French fields of a series and loads catalogue and territories', async () => {
    const { datasource } = await setup({ refId: 'A', queryType: 'series', axis: 0 });
    expect(screen.getByText('Type de requête')).toBeInTheDocument();
    expect(screen.getByText('Série mensuelle')).toBeInTheDocument();
    expect(screen.getByText('Axe')).toBeInTheDocument();
    expect(screen.getByText('Indicateur')).toBeInTheDocument();
    expect(screen.getByText('Territoire')).toBeInTheDocument();
    expect(screen.queryByText('Niveau')).not.toBeInTheDocument();
    await waitFor(() => expect(datasource.getCatalogue).toHaveBeenCalledTimes(1));
    expect(datasource.getTerritories).toHaveBeenCalledWith();
    expect(datasource.getTerritories).toHaveBeenCalledWith('commune');
  });

  it.each<[FneQuery['queryType'], string[], string[]]>([
    ['scorecard', ['Axe', 'Indicateur', 'Territoire'], ['Niveau']],
    ['breakdown', ['Axe', 'Indicateur', 'Territoire', 'Niveau'], []],
    ['gaps', ['Axe', 'Indicateur', 'Territoire'], ['Niveau']],
    ['milestones', ['Axe'], ['Indicateur', 'Territoire', 'Niveau']],
    ['freshness', [], ['Axe', 'Indicateur', 'Territoire', 'Niveau']],
  ])('%s shows only its fields', async (queryType, shown, hidden) => {
    const { datasource } = await setup({ refId: 'A', queryType });
    await waitFor(() => expect(datasource.getCatalogue).toHaveBeenCalled());
    for (const label of shown) {
      expect(screen.getByText(label)).toBeInTheDocument();
    }
    for (const label of hidden) {
      expect(screen.queryByText(label)).not.toBeInTheDocument();
    }
  });

  it('lists the six query types with their French names', async () => {
    await setup({ refId: 'A', queryType: 'scorecard' });
    fireEvent.keyDown(document.getElementById('fne-query-type')!, { key: 'ArrowDown' });
    for (const label of [
      'Série mensuelle',
      'Répartition par territoire',
      'Écarts aux cibles',
      'Jalons',
      'Fraîcheur des données',
    ]) {
      expect(await screen.findByText(label)).toBeInTheDocument();
    }
    // The current type appears twice: as the value and as an option.
    expect(screen.getAllByText('Tableau de bord par axe')).toHaveLength(2);
  });

  it('changing the type drops the fields the new type ignores', async () => {
    const { onChange, onRunQuery } = await setup({
      refId: 'A',
      queryType: 'breakdown',
      indicator: 'a2.accompagnements',
      territory: 'epci:200040566',
      level: 'commune',
      axis: 2,
    });
    await choose('fne-query-type', 'Jalons');
    expect(onChange).toHaveBeenCalledTimes(1);
    expect(onChange.mock.calls[0][0]).toStrictEqual({
      refId: 'A',
      queryType: 'milestones',
      axis: 2,
      indicator: undefined,
      territory: undefined,
      level: undefined,
    });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it('switching to freshness resets the axis to 0', async () => {
    const { onChange } = await setup({ refId: 'A', queryType: 'scorecard', axis: 3, territory: 'dep:69' });
    await choose('fne-query-type', 'Fraîcheur des données');
    expect(onChange.mock.calls[0][0]).toMatchObject({ refId: 'A', queryType: 'freshness', axis: 0, territory: undefined });
  });

  it('offers the indicators of the chosen axis only and sets the indicator id', async () => {
    const { datasource, onChange } = await setup({ refId: 'A', queryType: 'series', axis: 2 });
    await waitFor(() => expect(datasource.getCatalogue).toHaveBeenCalled());
    fireEvent.keyDown(document.getElementById('fne-indicator')!, { key: 'ArrowDown' });
    expect(await screen.findByText('Accompagnements réalisés')).toBeInTheDocument();
    expect(screen.queryByText('Conseillers numériques en activité')).not.toBeInTheDocument();
    expect(screen.getByText('$epci')).toBeInTheDocument();
    await act(async () => {
      fireEvent.click(screen.getByText('Accompagnements réalisés'));
    });
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'series', axis: 2, indicator: 'a2.accompagnements' });
  });

  it('changing the axis clears an indicator of another axis', async () => {
    const { datasource, onChange } = await setup({ refId: 'A', queryType: 'series', axis: 0, indicator: 'a1.conseillers_actifs' });
    await waitFor(() => expect(datasource.getCatalogue).toHaveBeenCalled());
    await screen.findByText('Conseillers numériques en activité');
    await choose('fne-axis', 'Axe 3');
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'series', axis: 3, indicator: undefined });
  });

  it('picks a territory from the backend list', async () => {
    const { onChange } = await setup({ refId: 'A', queryType: 'scorecard', axis: 0 });
    await choose('fne-territory', 'CC de la Vallée du Garon');
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'scorecard', axis: 0, territory: 'epci:200040566' });
  });

  it('accepts a typed variable or id as territory', async () => {
    const { onChange } = await setup({ refId: 'A', queryType: 'series', axis: 0, indicator: 'a2.accompagnements' });
    await typeCustom('fne-territory', '$commune');
    expect(onChange).toHaveBeenLastCalledWith({
      refId: 'A',
      queryType: 'series',
      axis: 0,
      indicator: 'a2.accompagnements',
      territory: '$commune',
    });
  });

  it('shows a saved variable territory as its value', async () => {
    await setup({ refId: 'A', queryType: 'scorecard', territory: '$perimetre' });
    // The saved value is kept as a choice of its own, even though no option carries it.
    expect(document.body.textContent).toContain('$perimetre');
  });

  it('sets the breakdown level with the French radio buttons', async () => {
    const { onChange } = await setup({ refId: 'A', queryType: 'breakdown', indicator: 'ctx.lieux', axis: 0 });
    fireEvent.click(screen.getByLabelText('Communes'));
    expect(onChange).toHaveBeenLastCalledWith({
      refId: 'A',
      queryType: 'breakdown',
      axis: 0,
      indicator: 'ctx.lieux',
      level: 'commune',
    });
    expect(screen.getByText('EPCI')).toBeInTheDocument();
  });

  it('marks a missing required indicator in French', async () => {
    await setup({ refId: 'A', queryType: 'series' });
    expect(await screen.findByText('Indicateur obligatoire pour ce type de requête')).toBeInTheDocument();
  });
});
