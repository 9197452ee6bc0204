import { skipCloudFormationValidation } from './cfn-validation';

skipCloudFormationValidation();
