/*
 * Entry point loaded by Grafana: the data source class and its editors.
 */
import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { DataSource } from './datasource';
import { FneOptions, FneQuery, FneSecureOptions } from './types';

export const plugin = new DataSourcePlugin<DataSource, FneQuery, FneOptions, FneSecureOptions>(DataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
