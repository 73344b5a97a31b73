/**
 * `npm run build`, last step: the built-in recipes parsed once, into dist/recipes.json, for
 * loadRecipes to take while recipes/ holds the same bytes (src/persistence/recipes.ts).
 */
import fs from 'node:fs';
import { compileRecipes, compiledRecipesFile } from '../dist/persistence/recipes.js';

fs.writeFileSync(compiledRecipesFile(), `${JSON.stringify(compileRecipes())}\n`);
