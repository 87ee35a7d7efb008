import React from 'react';

import { act, fireEvent, render, screen } from '@testing-library/react';

import type { DataSource } from '../datasource';
import { FneVariableQuery } from '../types';
import { VariableQueryEditor } from './VariableQueryEditor';

function setup(query: FneVariableQuery) {
  const onChange = jest.fn();
  render(
    <VariableQueryEditor
      query={query}
      onChange={onChange}
      onRunQuery={jest.fn()}
      datasource={{} as unknown as DataSource}
    />
  );
  return { onChange };
}

async function chooseKind(optionText: string) {
  fireEvent.keyDown(document.getElementById('fne-variable-kind')!, { key: 'ArrowDown' });
  const option = await screen.findByText(optionText);
  await act(async () => {
    fireEvent.click(option);
  });
}

describe('VariableQueryEditor', () => {
  it('offers the four kinds of values in French', async () => {
    setup({ refId: 'V', kind: 'epci' });
    expect(screen.getByText('Valeurs')).toBeInTheDocument();
    fireEvent.keyDown(document.getElementById('fne-variable-kind')!, { key: 'ArrowDown' });
    expect(await screen.findByText('Communes d’un EPCI')).toBeInTheDocument();
    expect(screen.getByText('Axes')).toBeInTheDocument();
    expect(screen.getByText('Indicateurs')).toBeInTheDocument();
    expect(screen.getAllByText('EPCI')).toHaveLength(2); // value and option
  });

  it('epci and axes take no parent', () => {
    setup({ refId: 'V', kind: 'axes' });
    expect(screen.queryByRole('textbox', { name: 'EPCI' })).not.toBeInTheDocument();
    expect(screen.queryByRole('textbox', { name: 'Axe' })).not.toBeInTheDocument();
  });

  it('choosing a kind emits {kind} and clears the parent', async () => {
    const { onChange } = setup({ refId: 'V', kind: 'indicators', parent: '2' });
    await chooseKind('Communes d’un EPCI');
    expect(onChange).toHaveBeenCalledTimes(1);
    expect(onChange.mock.calls[0][0]).toStrictEqual({ refId: 'V', kind: 'communes', parent: undefined });
  });

  it('communes: the EPCI parent is set on blur, variables accepted', () => {
    const { onChange } = setup({ refId: 'V', kind: 'communes' });
    const input = screen.getByRole('textbox', { name: 'EPCI' });
    expect(input).toHaveAttribute('placeholder', 'epci:200040566 ou $epci');
    fireEvent.change(input, { target: { value: ' $epci ' } });
    fireEvent.blur(input);
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'V', kind: 'communes', parent: '$epci' });
  });

  it('indicators: the axis parent, emptied, is removed', () => {
    const { onChange } = setup({ refId: 'V', kind: 'indicators', parent: '3' });
    const input = screen.getByRole('textbox', { name: 'Axe' });
    expect(input).toHaveValue('3');
    fireEvent.change(input, { target: { value: '' } });
    fireEvent.blur(input);
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'V', kind: 'indicators', parent: undefined });
  });
});
